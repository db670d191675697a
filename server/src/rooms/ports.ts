import type {
  CaptionsState,
  ChatMessage,
  GameSnapshot,
  HandQueueState,
  ModerationSnapshot,
  NotificationMap,
  RecordingJoinExtras,
  E2eeJoinExtras,
  NotificationMethod,
  PeerInfo,
  RequestMethod,
  Role,
  ResponseMap,
  ServerRequestMap,
  ServerRequestMethod,
  ValidRequestData,
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

/** A member as other concerns see it. */
export interface MemberRef {
  id: string;
  nickname: string;
}

/** Where a connection sits: the room it has joined and its (de-duplicated) nickname there. */
export interface Membership {
  roomId: string;
  nickname: string;
  /** owner / moderator / participant (server/src/moderation). */
  role: Role;
}

/**
 * What other concerns (chat, files, later games, recording…) may ask of rooms. They import
 * this port, never the registry or the Room class.
 */
export interface RoomDirectory {
  /** The room this connection has joined, or undefined. */
  membership(channelId: string): Membership | undefined;
  /** Like membership(), throwing NOT_JOINED: the one "is this connection in a room" check. */
  requireMembership(channelId: string): Membership;
  member(roomId: string, peerId: string): MemberRef | undefined;
  /** The members of a room connected to this node. */
  members(roomId: string): Iterable<MemberChannel>;
}

/** Extra fields a concern adds to the room.join answer (chat: the history page). */
export interface JoinExtras extends Partial<RecordingJoinExtras>, Partial<E2eeJoinExtras> {
  history?: ChatMessage[];
  /** Room life (games module): the running game as this member sees it, the hand queue. */
  game?: GameSnapshot | null;
  hands?: HandQueueState;
  /** Moderation: the room's settings, who is waiting (owners and moderators only). */
  moderation?: ModerationSnapshot;
  /** Live captions (captions module): whether they are on, and who gets none. */
  captions?: CaptionsState;
}

/**
 * What a concern contributes to rooms, registered once at start-up (`rooms.use(ext)`), before
 * the server listens. No setters later, no imports from rooms into the concern's code.
 */
export interface RoomExtension {
  /** Runs in the same tick the member was admitted (so nothing falls between history and live). */
  joinAnswer?(roomId: string, member: MemberChannel): JoinExtras | Promise<JoinExtras>;
  /** After a room was deleted (owner or idle cleanup): drop its history, files… */
  roomDeleted?(roomId: string): void | Promise<void>;
  /** A member was admitted; `firstIn` when the room was empty before. */
  memberJoined?(roomId: string, member: PeerInfo, firstIn: boolean): void;
  /** A member left its room (leave, disconnect, room closed); `roomEmpty` when none is left. */
  memberLeft?(roomId: string, memberId: string, roomEmpty: boolean): void;
  /**
   * A member that resumed through this node was handed over by the node it sat on: seated
   * here with the same id (not a join: the others never saw it leave).
   */
  memberArrived?(roomId: string, member: MemberChannel): void;
  /** A member went over to another node (it resumed there): not a leave. */
  memberDeparted?(roomId: string, memberId: string, roomEmpty: boolean): void;
  /** After a connection closed (and left its room, if any): forget per-connection state. */
  connectionClosed?(member: MemberChannel): void;
}

/** Who a joiner is, decided before the room sees it (a join token, the guest rule). */
export interface JoinGrant {
  nickname: string;
  role?: Role;
}

/**
 * Runs before every room.join (docs/admin-api.md): throws to refuse, or says who joins (a
 * token's name and role; else the nickname asked for, which moderation may still fill in).
 */
export type JoinPolicy = (
  peer: MemberChannel,
  request: { roomId: string; nickname?: string | undefined; token?: string | undefined },
) => Promise<Partial<JoinGrant>>;

/** The context of one request: the connection it came from. */
export interface RequestContext {
  peer: MemberChannel;
}

/**
 * Each concern (rooms + media, chat, files) exports a partial HandlerTable; the signaling
 * plugin merges them, validates every request against the protocol schema first, and maps
 * thrown TuttiErrors to protoo rejects. A handler never sees unvalidated data.
 */
export type Handler<M extends RequestMethod> = (
  ctx: RequestContext,
  data: ValidRequestData<M>,
) => Promise<ResponseMap[M]> | ResponseMap[M];

export type HandlerTable = { [M in RequestMethod]?: Handler<M> };
