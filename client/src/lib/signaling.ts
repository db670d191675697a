import { Peer, WebSocketTransport, type ProtooResponse } from 'protoo-client';
import type {
  NotificationMap,
  NotificationMethod,
  RequestData,
  RequestMethod,
  ResponseMap,
  ServerRequestMap,
  ServerRequestMethod,
} from '@tutti/protocol';

export type ConnectionState = 'connecting' | 'open' | 'disconnected';

type Listener = (data: unknown) => void;
type ServerRequestHandler<M extends ServerRequestMethod> = (
  data: ServerRequestMap[M]['request'],
) => Promise<ServerRequestMap[M]['response']>;

/** Default signaling URL: same origin, path /ws. */
export function defaultSignalingUrl(): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/ws`;
}

/**
 * Typed wrapper around a protoo-client Peer. It survives server restarts: protoo retries a
 * dropped socket by itself, and when protoo gives up (or the server closed us with 4000)
 * a brand-new protoo Peer is created. Listeners registered here stay attached across
 * reconnects; `onOpen` listeners run on every (re)connection.
 */
export class Signaling {
  #peer: Peer | null = null;
  #notificationListeners = new Map<string, Set<Listener>>();
  #requestHandlers = new Map<string, (data: unknown) => Promise<unknown>>();
  #stateListeners = new Set<(state: ConnectionState, reconnect: boolean) => void>();
  #openWaiters: (() => void)[] = [];
  #closed = false;
  #everOpened = false;
  #state: ConnectionState = 'connecting';

  constructor(readonly url: string = defaultSignalingUrl()) {
    this.#connect();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  #connect(): void {
    if (this.#closed) return;
    const transport = new WebSocketTransport(this.url, {
      retry: { retries: 50, factor: 1.5, minTimeout: 300, maxTimeout: 3000 },
    });
    const peer = new Peer(transport);
    this.#peer = peer;
    peer.on('open', () => {
      if (this.#peer !== peer) return;
      const reconnect = this.#everOpened;
      this.#everOpened = true;
      this.#setState('open', reconnect);
      const waiters = this.#openWaiters;
      this.#openWaiters = [];
      for (const w of waiters) w();
    });
    peer.on('disconnected', () => {
      if (this.#peer === peer) this.#setState('disconnected', false);
    });
    peer.on('failed', () => {
      if (this.#peer === peer) this.#setState('disconnected', false);
    });
    peer.on('close', () => {
      if (this.#peer !== peer || this.#closed) return;
      this.#setState('disconnected', false);
      setTimeout(() => this.#connect(), 800);
    });
    peer.on('notification', (notification) => {
      const listeners = this.#notificationListeners.get(notification.method);
      if (!listeners) return;
      for (const listener of [...listeners]) {
        try {
          listener(notification.data);
        } catch (err) {
          console.error('notification handler failed', notification.method, err);
        }
      }
    });
    peer.on('request', (request, accept, reject) => {
      const handler = this.#requestHandlers.get(request.method);
      if (!handler) {
        reject(405, `UNKNOWN_METHOD: ${request.method}`);
        return;
      }
      handler(request.data).then(
        (response) => accept(response as ProtooResponse),
        (err: unknown) => {
          console.error('server request handler failed', request.method, err);
          reject(500, `INTERNAL: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
    });
  }

  #setState(state: ConnectionState, reconnect: boolean): void {
    this.#state = state;
    for (const l of [...this.#stateListeners]) l(state, reconnect);
  }

  /** Resolves once connected (immediately if already), rejects after timeoutMs. */
  waitOpen(timeoutMs = 15000): Promise<void> {
    if (this.#peer?.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#openWaiters = this.#openWaiters.filter((w) => w !== done);
        reject(new Error('INTERNAL: cannot reach the server'));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#openWaiters.push(done);
    });
  }

  async request<M extends RequestMethod>(method: M, data: RequestData<M>): Promise<ResponseMap[M]> {
    await this.waitOpen();
    const peer = this.#peer;
    if (!peer) throw new Error('INTERNAL: not connected');
    const result: ResponseMap[M] = await peer.request(method, data);
    return result;
  }

  on<M extends NotificationMethod>(
    method: M,
    listener: (data: NotificationMap[M]) => void,
  ): () => void {
    let set = this.#notificationListeners.get(method);
    if (!set) {
      set = new Set();
      this.#notificationListeners.set(method, set);
    }
    const l = listener as Listener;
    set.add(l);
    return () => set.delete(l);
  }

  handle<M extends ServerRequestMethod>(method: M, handler: ServerRequestHandler<M>): () => void {
    this.#requestHandlers.set(method, handler as (data: unknown) => Promise<unknown>);
    return () => {
      if (this.#requestHandlers.get(method) === handler) this.#requestHandlers.delete(method);
    };
  }

  /** Called with every connection state change; `reconnect` is true on a re-open. */
  onState(listener: (state: ConnectionState, reconnect: boolean) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  close(): void {
    this.#closed = true;
    this.#peer?.close();
    this.#peer = null;
  }
}
