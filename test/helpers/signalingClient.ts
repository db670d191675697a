import protooClient from 'protoo-client';
import {
  protooPeerClient,
  type NotificationMap,
  type NotificationMethod,
  type RequestData,
  type RequestMethod,
  type ResponseMap,
  type ServerRequestMap,
  type ServerRequestMethod,
} from '@tutti/protocol';

export interface LoggedNotification {
  method: string;
  data: unknown;
  at: number;
}

export type ServerRequestHandler = <M extends ServerRequestMethod>(
  method: M,
  data: ServerRequestMap[M]['request'],
) => Promise<ServerRequestMap[M]['response']> | ServerRequestMap[M]['response'];

export interface SignalingClient {
  /** Typed protoo request; rejects with Error(`${CODE}: text`) (see errorCodeOf). */
  request<M extends RequestMethod>(method: M, data?: RequestData<M>): Promise<ResponseMap[M]>;
  /**
   * Resolves with the oldest matching notification not yet returned by an earlier call
   * (already-received ones count), or waits for one.
   */
  nextNotification<M extends NotificationMethod>(
    method: M,
    predicate?: (data: NotificationMap[M]) => boolean,
    timeoutMs?: number,
  ): Promise<NotificationMap[M]>;
  /** Every notification received so far, in order. */
  notifications: LoggedNotification[];
  /** Drops the notification log (so nextNotification only sees newer ones). */
  clearNotifications(): void;
  /** Answers server requests (media.newConsumer). Default: accept with {}. */
  onRequest(handler: ServerRequestHandler): void;
  /** Server requests received, in order. */
  serverRequests: { method: string; data: unknown }[];
  readonly closed: boolean;
  /** Resolves when the server closed the connection. */
  closedPromise: Promise<void>;
  close(): void;
}

/** Longer than the core's default: some tests keep hundreds of requests in flight. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A typed Node client over protoo-client (for tests and bots), on the protocol's
 * ProtocolClient core; this file adds the notification log and waiting helpers tests use.
 * Connects once (no reconnects) and resolves when the socket is open.
 */
export async function connectSignaling(
  wsUrl: string,
  timeoutMs = 10_000,
  /** Handshake extras: an Origin header (as a browser would send), a Cookie, `x-forwarded-for` behind a trusted proxy… */
  handshake: { origin?: string; headers?: Record<string, string> } = {},
): Promise<SignalingClient> {
  const transport = new protooClient.WebSocketTransport(wsUrl, {
    retry: { retries: 0 },
    ...handshake,
    clientConfig: {
      maxReceivedFrameSize: 16 * 1024 * 1024,
      maxReceivedMessageSize: 16 * 1024 * 1024,
    },
  });
  const peer = new protooClient.Peer(transport);
  const client = protooPeerClient(peer, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
  const notifications: LoggedNotification[] = [];
  let cursor = 0; // notifications before `cursor` were cleared
  const consumed = new Set<number>(); // indexes already returned by nextNotification
  const waiters = new Set<() => void>();
  const serverRequests: { method: string; data: unknown }[] = [];
  let handler: ServerRequestHandler = () => ({});
  let closed = false;
  let onClosed!: () => void;
  const closedPromise = new Promise<void>((r) => (onClosed = r));

  client.onAny((n) => {
    notifications.push({ method: n.method, data: n.data, at: Date.now() });
    for (const w of [...waiters]) w();
  });
  client.handleOther((req) => {
    serverRequests.push({ method: req.method, data: req.data });
    return handler(req.method, req.data);
  });
  const markClosed = () => {
    if (closed) return;
    closed = true;
    onClosed();
    for (const w of [...waiters]) w();
  };
  peer.on('close', markClosed);
  // A drop that wasn't a server close (code 4000): tests don't want silent reconnects.
  peer.on('disconnected', () => {
    markClosed();
    peer.close();
  });

  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`signaling connect timeout: ${wsUrl}`)), timeoutMs);
    peer.on('open', () => {
      clearTimeout(t);
      resolve();
    });
    peer.on('failed', () => {
      clearTimeout(t);
      peer.close();
      reject(new Error(`signaling connect failed: ${wsUrl}`));
    });
  });

  return {
    // Tests may leave out `{}` for methods without data.
    request: (method, data) => client.request(method, data ?? ({} as RequestData<typeof method>)),
    nextNotification(method, predicate, timeout = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (let i = cursor; i < notifications.length; i++) {
            const n = notifications[i]!;
            if (n.method !== method || consumed.has(i)) continue;
            const data = n.data as NotificationMap[typeof method];
            if (!predicate || predicate(data)) {
              // Each notification satisfies one call only, whatever order they're awaited in.
              consumed.add(i);
              cleanup();
              resolve(data);
              return;
            }
          }
          if (closed) {
            cleanup();
            reject(new Error(`connection closed while waiting for ${method}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timeout waiting for notification ${method}`));
        }, timeout);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    notifications,
    clearNotifications() {
      cursor = notifications.length;
    },
    onRequest(h) {
      handler = h;
    },
    serverRequests,
    get closed() {
      return closed;
    },
    closedPromise,
    close() {
      peer.close();
      markClosed();
    },
  };
}
