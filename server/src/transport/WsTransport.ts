import { EventEmitter } from 'node:events';
import { parseFrame } from '@tutti/protocol';

/**
 * The subset of a `ws` WebSocket this adapter uses (kept structural so unit tests can
 * drive it with a fake, and so we don't need @types/ws).
 */
export interface WsLike {
  readonly readyState: number;
  send(data: string, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', listener: (data: unknown, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: (code: number, reason: unknown) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

const WS_OPEN = 1;

export interface WsTransportEvents {
  /** Frames that were dropped (bad JSON, not protoo-shaped, binary). For metrics/tests. */
  invalid: [reason: string];
}

/**
 * Adapts a `ws` socket (as handed out by @fastify/websocket) to protoo-server's transport
 * interface: `send(message) → Promise`, `close()`, `closed`, `toString()`, and the events
 * `message` (a parsed protoo message object) and `close`. protoo-server's own
 * WebSocketTransport expects a WebSocket-Node connection, hence this class.
 *
 * Everything coming off the wire is untrusted: parsing never throws, and listener errors
 * are caught so a bad frame can never take the process down.
 */
export class WsTransport extends EventEmitter {
  readonly #ws: WsLike;
  readonly #label: string;
  #closed = false;
  /** Counts dropped frames (exposed for tests / debugging). */
  invalidFrames = 0;
  readonly #onError: (err: unknown) => void;

  constructor(ws: WsLike, label = 'WS', onError: (err: unknown) => void = () => {}) {
    super();
    this.#ws = ws;
    this.#label = label;
    this.#onError = onError;

    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('close', () => this.#markClosed());
    // 'error' must have a listener or ws rethrows; the following 'close' does the cleanup.
    ws.on('error', () => {});
  }

  get closed(): boolean {
    return this.#closed;
  }

  override toString(): string {
    return this.#label;
  }

  async send(message: unknown): Promise<void> {
    if (this.#closed || this.#ws.readyState !== WS_OPEN) throw new Error('transport closed');
    await this.#sendText(JSON.stringify(message));
  }

  /**
   * Sends an already serialized protoo message as is (no JSON.stringify here): a broadcast
   * serializes once and hands the same string to every socket. Same queue as send(), so
   * calls keep their order.
   */
  async sendRaw(text: string): Promise<void> {
    if (this.#closed || this.#ws.readyState !== WS_OPEN) throw new Error('transport closed');
    await this.#sendText(text);
  }

  #sendText(text: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      try {
        this.#ws.send(text, (err) => (err ? reject(err) : resolve()));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  close(): void {
    if (this.#closed) return;
    // Like protoo's transport: mark closed and emit now, don't wait for the socket.
    this.#markClosed();
    try {
      this.#ws.close(4000, 'closed by server');
    } catch {
      // Already closing/closed.
    }
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#safeEmit('close');
  }

  #onMessage(data: unknown, isBinary: boolean): void {
    if (this.#closed) return;
    if (isBinary) return this.#drop('binary frame');
    const text = rawToString(data);
    if (text === undefined) return this.#drop('unreadable frame');
    const message = parseFrame(text);
    if (typeof message === 'string') return this.#drop(message);
    this.#safeEmit('message', message);
  }

  #drop(reason: string): void {
    this.invalidFrames++;
    this.#safeEmit('invalid', reason);
  }

  #safeEmit(event: string, ...args: unknown[]): void {
    try {
      this.emit(event, ...args);
    } catch (err) {
      this.#onError(err);
    }
  }
}

function rawToString(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data) && data.every((d) => Buffer.isBuffer(d))) {
    return Buffer.concat(data as Buffer[]).toString('utf8');
  }
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return undefined;
}
