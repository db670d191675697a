import type {
  NotificationMap,
  NotificationMethod,
  ServerRequestMap,
  ServerRequestMethod,
} from '@tutti/protocol';

/**
 * A notification serialized once, for sending the same bytes to many members (protoo's own
 * notify() would JSON-stringify it again for every recipient).
 */
export interface PreparedNotification<M extends NotificationMethod = NotificationMethod> {
  readonly method: M;
  readonly data: NotificationMap[M];
  /** protoo wire format: {"notification":true,"method":…,"data":…} */
  readonly text: string;
}

export function prepareNotification<M extends NotificationMethod>(
  method: M,
  data: NotificationMap[M],
): PreparedNotification<M> {
  // Same shape as protoo's Message.createNotification.
  const text = JSON.stringify({ notification: true, method, data });
  return { method, data, text };
}

/**
 * How a room talks to one of its members (LiveKit's participant listener, Galène's
 * `group.Client`). The protoo connection implements it; so can a test double, a recorder,
 * a WHIP ingest or a bot. The room never writes to a channel: membership is the room's.
 */
export interface MemberChannel {
  /** Unique per connection (the protoo peer id). */
  readonly id: string;
  /** The client address (limits, logs); a server-side member uses its own label. */
  readonly ip: string;
  readonly closed: boolean;
  /** Fire and forget; settles (never rejects) once the frame is handed on. */
  notify<M extends NotificationMethod>(method: M, data: NotificationMap[M]): Promise<void>;
  /** Same as notify() with bytes serialized once for many members; keeps notify()'s order. */
  notifyPrepared(prepared: PreparedNotification): Promise<void>;
  request<M extends ServerRequestMethod>(
    method: M,
    data: ServerRequestMap[M]['request'],
  ): Promise<ServerRequestMap[M]['response']>;
  close(): void;
}
