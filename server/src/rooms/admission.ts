import type { MediaSource, Role, ValidRequestData } from '@tutti/protocol';
import type { MemberChannel } from './ports.ts';

/** A connection's signed-in account (from its session cookie), or null for a guest. */
export interface Identity {
  accountId: string;
  name: string;
}

/** A trusted claim about a joiner (a signed join token's role, WHIP…): not from the wire. */
export interface JoinClaim {
  role?: Role;
}

/**
 * Who may join a room and as whom (rooms/handlers.ts asks before RoomRegistry.join).
 * Moderation implements it: signed-in only, bars, the lock, the waiting room, roles.
 */
export interface Admission {
  /** Throws SIGN_IN_REQUIRED, BANNED, ROOM_LOCKED, WAITING, FORBIDDEN; else how to join. */
  check(
    peer: MemberChannel,
    data: ValidRequestData<'room.join'>,
    claim?: JoinClaim,
  ): Promise<{ nickname: string; role: Role }>;
  /** room.leave: out of a waiting room too. */
  left(peer: MemberChannel): void;
  /** The creator's account, for room ownership (null: a guest). */
  accountOf(peer: MemberChannel): Promise<string | null>;
}

/** What a muted-by-moderator member may not do to its own media (throws FORBIDDEN). */
export interface MediaGuard {
  produce(peer: MemberChannel, source: MediaSource, paused: boolean): void;
  resume(peer: MemberChannel, producerId: string): void;
}
