import { ERROR_CODES, errorCodeOf } from './errors.ts';
import type { Answer } from './frames.ts';
import type { NotificationMap, NotificationMethod } from './notifications.ts';
import type {
  RequestData,
  RequestMethod,
  ResponseMap,
  ServerRequestMap,
  ServerRequestMethod,
} from './requests.ts';

/**
 * Sends one request over whatever carries the frames; resolves with the answer's data or
 * rejects with an Error whose message is the errorReason. `signal` aborts on timeout.
 */
export type SendRequest = (method: string, data: unknown, signal: AbortSignal) => Promise<unknown>;

/** A notification as a tagged union: `switch (n.method)` narrows `n.data`. */
export type AnyNotification = {
  [M in NotificationMethod]: { method: M; data: NotificationMap[M] };
}[NotificationMethod];

/** A server → client request as a tagged union. */
export type AnyServerRequest = {
  [M in ServerRequestMethod]: { method: M; data: ServerRequestMap[M]['request'] };
}[ServerRequestMethod];

type Reply<M extends ServerRequestMethod> =
  ServerRequestMap[M]['response'] | Promise<ServerRequestMap[M]['response']>;

export type ServerRequestHandler<M extends ServerRequestMethod> = (
  data: ServerRequestMap[M]['request'],
) => Reply<M>;

export type AnyServerRequestHandler = (request: AnyServerRequest) => Reply<ServerRequestMethod>;

export interface ProtocolClientOptions {
  /** Default time a request may wait for its answer. */
  requestTimeoutMs?: number;
  /** A notification listener or server-request handler threw (they never break the link). */
  onError?: (err: unknown, method: string) => void;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;

/**
 * The typed core of every Tutti client (browser, tests, load bots): typed requests with a
 * timeout, typed notification listeners and typed handlers for server requests. It knows
 * nothing about sockets: a link sends requests through `send` and hands everything that
 * arrives to `receiveNotification` / `receiveRequest` (see FrameLink, attachProtooPeer).
 *
 * Incoming data is typed by the method it arrives with: the server is the authority on
 * its own protocol, so the client does not re-validate what the server sends.
 */
export class ProtocolClient {
  readonly #send: SendRequest;
  readonly #timeoutMs: number;
  readonly #onError: (err: unknown, method: string) => void;
  readonly #listeners = new Map<string, Set<(data: unknown) => void>>();
  readonly #anyListeners = new Set<(notification: AnyNotification) => void>();
  readonly #handlers = new Map<string, (data: unknown) => unknown>();
  #fallback: AnyServerRequestHandler | undefined;

  constructor(send: SendRequest, options: ProtocolClientOptions = {}) {
    this.#send = send;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#onError = options.onError ?? (() => {});
  }

  /** Rejects with Error(`${CODE}: text`) (see errorCodeOf); TIMEOUT after `timeoutMs`. */
  request<M extends RequestMethod>(
    method: M,
    data: RequestData<M>,
    timeoutMs = this.#timeoutMs,
  ): Promise<ResponseMap[M]> {
    const abort = new AbortController();
    return new Promise<ResponseMap[M]>((resolve, reject) => {
      const timer = setTimeout(() => {
        abort.abort();
        reject(new Error(`TIMEOUT: no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = (fn: () => void): void => {
        clearTimeout(timer);
        fn();
      };
      let sent: Promise<unknown>;
      try {
        sent = this.#send(method, data, abort.signal);
      } catch (err) {
        sent = Promise.reject(err);
      }
      sent.then(
        // Typed by the method: see the class comment.
        (answer) => settle(() => resolve(answer as ResponseMap[M])),
        (err: unknown) => settle(() => reject(asError(err))),
      );
    });
  }

  /** Listens to one notification; returns the unsubscribe function. */
  on<M extends NotificationMethod>(
    method: M,
    listener: (data: NotificationMap[M]) => void,
  ): () => void {
    let set = this.#listeners.get(method);
    if (!set) {
      set = new Set();
      this.#listeners.set(method, set);
    }
    const entry = listener as (data: unknown) => void;
    set.add(entry);
    return () => void set.delete(entry);
  }

  /** Listens to every notification (after the per-method listeners). */
  onAny(listener: (notification: AnyNotification) => void): () => void {
    this.#anyListeners.add(listener);
    return () => void this.#anyListeners.delete(listener);
  }

  /** Answers one server request method; returns the function that removes the handler. */
  handle<M extends ServerRequestMethod>(method: M, handler: ServerRequestHandler<M>): () => void {
    const entry = handler as (data: unknown) => unknown;
    this.#handlers.set(method, entry);
    return () => {
      if (this.#handlers.get(method) === entry) this.#handlers.delete(method);
    };
  }

  /** Answers server requests that have no handler of their own (default: UNKNOWN_METHOD). */
  handleOther(handler: AnyServerRequestHandler | undefined): void {
    this.#fallback = handler;
  }

  /** For links: a notification arrived. Listener errors go to onError. */
  receiveNotification(method: string, data: unknown): void {
    for (const listener of [...(this.#listeners.get(method) ?? [])]) {
      this.#guard(method, () => listener(data));
    }
    if (this.#anyListeners.size === 0) return;
    const notification = { method, data } as AnyNotification;
    for (const listener of [...this.#anyListeners]) {
      this.#guard(method, () => listener(notification));
    }
  }

  /** For links: a server request arrived. Resolves with the answer to send; never rejects. */
  async receiveRequest(method: string, data: unknown): Promise<Answer> {
    const handler = this.#handlers.get(method);
    const fallback = this.#fallback;
    if (!handler && !fallback) {
      return {
        ok: false,
        errorCode: ERROR_CODES.UNKNOWN_METHOD,
        errorReason: `UNKNOWN_METHOD: ${method}`,
      };
    }
    try {
      const result = handler
        ? await handler(data)
        : await fallback!({ method, data } as AnyServerRequest);
      return { ok: true, data: typeof result === 'object' && result !== null ? result : {} };
    } catch (err) {
      this.#onError(err, method);
      const code = errorCodeOf(err);
      const message = asError(err).message;
      return code
        ? { ok: false, errorCode: ERROR_CODES[code], errorReason: message }
        : { ok: false, errorCode: ERROR_CODES.INTERNAL, errorReason: `INTERNAL: ${message}` };
    }
  }

  #guard(method: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#onError(err, method);
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
