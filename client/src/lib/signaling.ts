import { Peer, WebSocketTransport } from 'protoo-client';
import {
  attachProtooPeer,
  ProtocolClient,
  type NotificationMap,
  type NotificationMethod,
  type RequestData,
  type RequestMethod,
  type ResponseMap,
  type ServerRequestHandler,
  type ServerRequestMethod,
} from '@tutti/protocol';
import { signalingUrl, takeEarlySocket, type EarlySocket } from '../boot.ts';
import { EarlySocketTransport } from './earlySocket.ts';

export type ConnectionState = 'connecting' | 'open' | 'disconnected';

/**
 * A socket whose peer vanished without a FIN (a network blip) looks open to the browser for
 * minutes: a `session.ping` every HEARTBEAT_MS, unanswered within PING_TIMEOUT_MS, drops it
 * and reconnects (the room session then resumes its membership).
 */
const HEARTBEAT_MS = 4000;
const PING_TIMEOUT_MS = 8000;

const RETRY = { retries: 50, factor: 1.5, minTimeout: 300, maxTimeout: 3000 };

/** Default signaling URL: same origin, path /ws. */
export function defaultSignalingUrl(): string {
  return signalingUrl();
}

/**
 * The browser's signaling connection: the protocol's typed ProtocolClient over a
 * protoo-client Peer. It survives server restarts: protoo retries a dropped socket by
 * itself, and when protoo gives up (or the server closed us with 4000) a brand-new protoo
 * Peer is created and attached to the same ProtocolClient, so listeners and handlers
 * registered here stay attached across reconnects.
 */
export class Signaling {
  #peer: Peer | null = null;
  readonly #client = new ProtocolClient(
    (method, data) => {
      const peer = this.#peer;
      if (!peer) return Promise.reject(new Error('INTERNAL: not connected'));
      return peer.request(method, data);
    },
    {
      onError: (err, method) => console.error('signaling handler failed', method, err),
    },
  );
  #stateListeners = new Set<(state: ConnectionState, reconnect: boolean) => void>();
  #openWaiters: (() => void)[] = [];
  #closed = false;
  #everOpened = false;
  #state: ConnectionState = 'connecting';
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  /** The lobby answer that came on the socket boot.ts opened (taken by the first lobby). */
  #earlyLobby: EarlySocket['lobby'] | null = null;

  readonly url: string;

  // No parameter property: Node's type stripping runs this file too (the resume tests).
  constructor(url: string = defaultSignalingUrl()) {
    this.url = url;
    // The page's socket was opened by boot.ts, before the app started: adopt it.
    const early = takeEarlySocket(url);
    this.#earlyLobby = early?.lobby ?? null;
    this.#connect(early);
    this.#heartbeat = setInterval(() => this.#ping(), HEARTBEAT_MS);
  }

  #ping(): void {
    const peer = this.#peer;
    if (!peer?.connected || this.#closed) return;
    this.#client.request('session.ping', {}, PING_TIMEOUT_MS).catch(() => {
      // Still the same socket and still "open": it is dead; a fresh one replaces it.
      if (this.#peer === peer && peer.connected && !this.#closed) peer.close();
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /**
   * The `lobby.subscribe` answer boot.ts asked for as its socket opened, once (null: none,
   * or already taken — then ask).
   */
  takeEarlyLobby(): EarlySocket['lobby'] | null {
    const lobby = this.#earlyLobby;
    this.#earlyLobby = null;
    return lobby;
  }

  #connect(early: EarlySocket | null = null): void {
    if (this.#closed) return;
    const transport = early
      ? new EarlySocketTransport(early, RETRY)
      : new WebSocketTransport(this.url, { retry: RETRY });
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
    attachProtooPeer(peer, this.#client);
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

  /** Waits for the socket (up to 15 s), then for the answer (`timeoutMs`, default 20 s). */
  async request<M extends RequestMethod>(
    method: M,
    data: RequestData<M>,
    timeoutMs?: number,
  ): Promise<ResponseMap[M]> {
    await this.waitOpen();
    return this.#client.request(method, data, timeoutMs);
  }

  on<M extends NotificationMethod>(
    method: M,
    listener: (data: NotificationMap[M]) => void,
  ): () => void {
    return this.#client.on(method, listener);
  }

  handle<M extends ServerRequestMethod>(method: M, handler: ServerRequestHandler<M>): () => void {
    return this.#client.handle(method, handler);
  }

  /** Called with every connection state change; `reconnect` is true on a re-open. */
  onState(listener: (state: ConnectionState, reconnect: boolean) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /**
   * Drops the socket and connects again after `delayMs` (the server asked: it is draining).
   * Listeners see 'disconnected', then 'open' with `reconnect` true, as after a network drop.
   */
  reconnect(delayMs = 0): void {
    setTimeout(() => {
      if (!this.#closed) this.#peer?.close();
    }, delayMs);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#peer?.close();
    this.#peer = null;
  }
}
