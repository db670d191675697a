import { EventEmitter } from 'node:events';
import { ERROR_CODES, parseFrame } from '@tutti/protocol';
import { preparedFrame } from './wsFrame.ts';
import { CoalescedSocket, WriteCoalescer } from './writeCoalescer.ts';

/**
 * The subset of a `ws` WebSocket this adapter uses (kept structural so unit tests can
 * drive it with a fake, and so we don't need @types/ws).
 */
export interface WsLike {
  readonly readyState: number;
  /** Bytes handed to send() that have not reached the kernel yet (`ws` has it). */
  readonly bufferedAmount?: number;
  send(data: string, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  /** Destroys the socket at once: whatever is still queued for it is dropped (`ws` has it). */
  terminate?(): void;
  /**
   * The TCP socket under a `ws` WebSocket (ws keeps it as `_socket`). When present, frames
   * are corked together (writeCoalescer.ts): one write (one writev) per socket and tick, or
   * per hold for a busy socket; with `write` too, a prepared frame is written to it as is
   * (see sendPrepared).
   */
  readonly _socket?: {
    cork(): void;
    uncork(): void;
    write?(chunk: Buffer): boolean;
    readonly destroyed?: boolean;
  } | null;
  /** The negotiated extensions (`ws` has it): '' means frames go out exactly as framed. */
  readonly extensions?: string;
  on(event: 'message', listener: (data: unknown, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: (code: number, reason: unknown) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

const WS_OPEN = 1;
/** What a pre-framed send answers once its frame is handed to the socket (one for all). */
export const HANDED_ON: Promise<void> = Promise.resolve();
/**
 * Why a pre-framed send to a closed socket fails: one Error for all (a broadcast to a room
 * whose members are leaving hits many closing sockets; a stack trace each is costly).
 */
const CLOSED = new Error('transport closed');

/** What one socket may cost in server memory (issue #10: a client that stops reading). */
export interface SendLimits {
  /** Queued and not yet sent beyond this: the socket is cut and its queue dropped. */
  maxBufferedBytes: number;
  /** A success response bigger than this goes out as PAYLOAD_TOO_LARGE instead. */
  maxResponseBytes: number;
  /**
   * Room-wide notifications are framed once and the same bytes written to every socket
   * (default true); false: `ws` frames each send itself (the baseline the chat bench
   * compares against).
   */
  preframeBroadcasts?: boolean;
  /** The write coalescer's hold (writeCoalescer.ts), ms; 0 or absent: per tick only. */
  coalesceWritesMs?: number;
  /** …applied from this many frames a second, all sockets together (default 0: always). */
  coalesceFromFramesPerSecond?: number;
}

/** No holding: each socket's frames of one tick leave together at its end. */
const PER_TICK = WriteCoalescer.perTick();

const DEFAULT_LIMITS: SendLimits = {
  maxBufferedBytes: 4 * 1024 * 1024,
  maxResponseBytes: 1024 * 1024,
};

export interface WsTransportEvents {
  /** Frames that were dropped (bad JSON, not protoo-shaped, binary). For metrics/tests. */
  invalid: [reason: string];
  /** The socket was cut because its send queue passed maxBufferedBytes (then 'close'). */
  overflow: [bufferedBytes: number];
  /** A response over maxResponseBytes was replaced by PAYLOAD_TOO_LARGE. */
  oversized: [bytes: number];
}

/**
 * Adapts a `ws` socket (as handed out by @fastify/websocket) to protoo-server's transport
 * interface: `send(message) → Promise`, `close()`, `closed`, `toString()`, and the events
 * `message` (a parsed protoo message object) and `close`. protoo-server's own
 * WebSocketTransport expects a WebSocket-Node connection, hence this class.
 *
 * Everything coming off the wire is untrusted: parsing never throws, and listener errors
 * are caught so a bad frame can never take the process down. Nothing going out may pile
 * up either: see SendLimits.
 */
export class WsTransport extends EventEmitter {
  readonly #ws: WsLike;
  readonly #label: string;
  #closed = false;
  /** Counts dropped frames (exposed for tests / debugging). */
  invalidFrames = 0;
  readonly #onError: (err: unknown) => void;
  readonly #limits: SendLimits;
  readonly #coalescer: WriteCoalescer;
  /** The socket's place in the coalescer (none without a socket underneath: a test double). */
  readonly #coalesced: CoalescedSocket | undefined;
  /** No extension negotiated (fixed at the handshake): frames go out exactly as framed. */
  readonly #plainFrames: boolean;

  /** `coalescer`: shared by the server's sockets (one timer per batch of them). */
  constructor(
    ws: WsLike,
    label = 'WS',
    onError: (err: unknown) => void = () => {},
    limits: SendLimits = DEFAULT_LIMITS,
    coalescer: WriteCoalescer = PER_TICK,
  ) {
    super();
    this.#ws = ws;
    this.#label = label;
    this.#onError = onError;
    this.#limits = limits;
    this.#coalescer = coalescer;
    this.#coalesced = ws._socket ? new CoalescedSocket(ws._socket) : undefined;
    // Read once: ws builds this string anew on every read.
    this.#plainFrames = ws.extensions === '';

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
    const text = JSON.stringify(message);
    // An answer is waited on: it (and what is held before it) leaves at the end of this tick.
    await this.#sendText(this.#capResponse(message, text), isResponse(message));
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

  /**
   * Sends a notification prepared once for many sockets: its WebSocket frame is built once
   * (wsFrame.ts) and the same Buffer is written to this socket — no per-socket framing or
   * UTF-8 encoding. Same bound, coalescing and order as send(): `ws` writes its own frames to
   * the same socket synchronously (no extensions negotiated, so nothing is held back in its
   * sender), so the two interleave in call order. Settles once the frame is handed to the
   * socket. Without a writable socket underneath (a test double) it falls back to sendRaw.
   */
  sendPrepared(prepared: { readonly text: string }): Promise<void> {
    const ws = this.#ws;
    if (this.#closed || ws.readyState !== WS_OPEN) return Promise.reject(CLOSED);
    const socket = ws._socket;
    if (
      this.#limits.preframeBroadcasts === false ||
      !this.#plainFrames ||
      !socket?.write ||
      socket.destroyed
    ) {
      return this.#sendText(prepared.text);
    }
    const queued = ws.bufferedAmount ?? 0;
    if (queued > this.#limits.maxBufferedBytes) {
      this.#cut(queued);
      return Promise.reject(new Error('transport closed: send buffer full'));
    }
    this.#hold(false);
    try {
      socket.write(preparedFrame(prepared));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return HANDED_ON;
  }

  /**
   * The bytes of one answer are bounded whatever the handler returned: an answer over the
   * limit becomes an error the client can act on (ask for a smaller page).
   */
  #capResponse(message: unknown, text: string): string {
    const max = this.#limits.maxResponseBytes;
    // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no counting.
    if (text.length * 3 <= max || !isSuccessResponse(message)) return text;
    const bytes = Buffer.byteLength(text);
    if (bytes <= max) return text;
    this.#safeEmit('oversized', bytes);
    return JSON.stringify({
      response: true,
      id: message.id,
      ok: false,
      errorCode: ERROR_CODES.PAYLOAD_TOO_LARGE,
      errorReason: `PAYLOAD_TOO_LARGE: the answer would be ${bytes} bytes (at most ${max}); ask for less`,
    });
  }

  #sendText(text: string, urgent = false): Promise<void> {
    const queued = this.#ws.bufferedAmount ?? 0;
    if (queued > this.#limits.maxBufferedBytes) {
      this.#cut(queued);
      return Promise.reject(new Error('transport closed: send buffer full'));
    }
    this.#hold(urgent);
    return new Promise<void>((resolve, reject) => {
      try {
        this.#ws.send(text, (err) => (err ? reject(err) : resolve()));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /**
   * Chat fan-out sends many frames to every socket (a batch of messages, a burst off the
   * cluster bus): corked, they leave as one write instead of one syscall each — at the end
   * of this tick, or for a busy socket within the coalescer's hold (writeCoalescer.ts).
   */
  #hold(urgent: boolean): void {
    if (this.#coalesced) this.#coalescer.hold(this.#coalesced, urgent);
  }

  close(): void {
    if (this.#closed) return;
    // Like protoo's transport: mark closed and emit now, don't wait for the socket.
    this.#markClosed();
    this.#hold(true); // What is held goes out now, the close frame behind it.
    try {
      this.#ws.close(4000, 'closed by server');
    } catch {
      // Already closing/closed.
    }
  }

  /**
   * The client stopped reading (or reads far slower than it asks). A close frame would
   * queue behind the very bytes it does not read, so destroy the socket: its queue is
   * freed now, and 'close' runs the usual clean-up.
   */
  #cut(queued: number): void {
    if (this.#closed) return;
    this.#safeEmit('overflow', queued);
    this.#markClosed();
    try {
      if (this.#ws.terminate) this.#ws.terminate();
      else this.#ws.close(1008, 'send buffer full');
    } catch {
      // Already gone.
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

function isResponse(message: unknown): boolean {
  return (message as { response?: unknown } | null)?.response === true;
}

function isSuccessResponse(message: unknown): message is { id: number } {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as { response?: unknown; ok?: unknown; id?: unknown };
  return m.response === true && m.ok === true && typeof m.id === 'number';
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
