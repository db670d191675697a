import { WebSocketTransport } from 'protoo-client';
import type { EarlySocket } from '../boot.ts';

type Listener = (...args: unknown[]) => void;
type RetryOptions = NonNullable<ConstructorParameters<typeof WebSocketTransport>[1]>['retry'];

/** The server closed us for good (protoo-client does not retry on it either). */
const CLOSED_BY_SERVER = 4000;

/**
 * A protoo-client transport over the socket boot.ts opened (the same events and methods as
 * protoo's WebSocketTransport: `open`, `message`, `disconnected`, `failed`, `close`). When
 * that socket drops, it carries on as protoo's own transport would: a fresh
 * WebSocketTransport (with `retry`) takes over, and its events are passed on, so a Peer on
 * this transport reconnects exactly as one on a WebSocketTransport.
 */
export class EarlySocketTransport {
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #early: EarlySocket;
  readonly #retry: RetryOptions;
  #inner: WebSocketTransport | null = null;
  #closed = false;

  constructor(early: EarlySocket, retry: RetryOptions) {
    this.#early = early;
    this.#retry = retry;
    const { ws } = early;
    // Peer subscribes right after construction: events are emitted from a later task.
    if (ws.readyState === WebSocket.OPEN) setTimeout(() => this.#opened(), 0);
    else if (ws.readyState === WebSocket.CONNECTING)
      ws.addEventListener('open', () => this.#opened(), { once: true });
    else setTimeout(() => this.#lost(false), 0);
    let wasOpen = ws.readyState === WebSocket.OPEN;
    ws.addEventListener('open', () => (wasOpen = true), { once: true });
    ws.addEventListener('close', (ev) => {
      if (this.#closed || this.#inner) return;
      if (ev.code === CLOSED_BY_SERVER) this.#end();
      else this.#lost(wasOpen);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  on(event: string, listener: Listener): void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
  }

  async send(message: unknown): Promise<void> {
    if (this.#inner) return this.#inner.send(message);
    if (this.#closed) throw new Error('transport closed');
    this.#early.ws.send(JSON.stringify(message));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#emit('close');
    if (this.#inner) this.#inner.close();
    else this.#early.ws.close();
  }

  #opened(): void {
    if (this.#closed || this.#inner) return;
    this.#emit('open');
    // What came meanwhile is passed on from the next task: the early lobby answer (taken
    // on 'open') is applied first, as it would have been before any later frame.
    setTimeout(() =>
      this.#early.adopt((frame) => {
        if (this.#closed || this.#inner) return;
        // protoo's Message.parse gives every request and response a data object.
        if ((frame['request'] || frame['response']) && frame['data'] == null) frame['data'] = {};
        this.#emit('message', frame);
      }),
    );
  }

  /** The early socket failed or dropped: protoo's own transport connects from here on. */
  #lost(wasOpen: boolean): void {
    if (this.#closed || this.#inner) return;
    this.#emit(wasOpen ? 'disconnected' : 'failed', 1);
    if (this.#closed) return;
    const inner = new WebSocketTransport(this.#early.url, { retry: this.#retry });
    this.#inner = inner;
    const relay = inner as unknown as { on(event: string, listener: Listener): void };
    for (const event of ['open', 'disconnected', 'failed', 'message'])
      relay.on(event, (...args) => this.#emit(event, ...args));
    relay.on('close', () => this.#end());
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#emit('close');
  }

  #emit(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        listener(...args);
      } catch (err) {
        console.error('signaling transport listener failed', event, err);
      }
    }
  }
}
