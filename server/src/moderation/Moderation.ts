import {
  TuttiError,
  type MediaSource,
  type ModerationSnapshot,
  type NotificationMap,
  type NotificationMethod,
  type Role,
  type ValidRequestData,
} from '@tutti/protocol';
import { nicknameSchema } from '@tutti/protocol/schemas';
import type { Logger } from '../kernel/log.ts';
import type { RoomStore } from '../store/RoomStore.ts';
import type { MemberChannel } from '../rooms/ports.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { verifyOwnerSecret } from '../rooms/security.ts';
import type { Admission, Identity, JoinClaim, MediaGuard } from '../rooms/admission.ts';
import type { Identities } from './identities.ts';
import { isModerator } from './roles.ts';
import { RoomModerationState } from './roomState.ts';

export interface ModerationDeps {
  rooms: RoomRegistry;
  store: RoomStore;
  identities: Identities;
  log: Logger;
  now?: () => number;
}

/**
 * Moderation's state on this node and the door of every room: who may join and as whom
 * (Admission), what a held mic may not do (MediaGuard), who is waiting. The moderator
 * actions themselves are in actions.ts; both only take ids (room, actor, target), so a
 * cluster RPC can call them for a member on another node.
 */
export class Moderation implements Admission, MediaGuard {
  readonly rooms: RoomRegistry;
  readonly store: RoomStore;
  readonly identities: Identities;
  readonly log: Logger;
  readonly #now: (() => number) | undefined;
  readonly #states = new Map<string, RoomModerationState>();
  /** Connection id → the room it waits for, and how to tell it. */
  readonly #waiting = new Map<string, { roomId: string; channel: MemberChannel }>();

  constructor(deps: ModerationDeps) {
    this.rooms = deps.rooms;
    this.store = deps.store;
    this.identities = deps.identities;
    this.log = deps.log;
    this.#now = deps.now;
  }

  /** The room's moderation state (created from its stored settings on first use). */
  state(room: Room): RoomModerationState {
    let state = this.#states.get(room.id);
    if (!state) {
      state = new RoomModerationState(room.record.settings, this.#now);
      this.#states.set(room.id, state);
    }
    return state;
  }

  snapshot(room: Room, forRole: Role): ModerationSnapshot {
    const state = this.state(room);
    return {
      settings: { ...state.settings },
      waiting: isModerator(forRole) ? state.waiting.list() : [],
    };
  }

  // ── Admission ───────────────────────────────────────────────────────────────────────

  async check(
    peer: MemberChannel,
    data: ValidRequestData<'room.join'>,
    claim?: JoinClaim,
  ): Promise<{ nickname: string; role: Role }> {
    const identity = await this.identities.of(peer.id);
    // Created on another node a moment ago: loaded from the shared store on this miss.
    const room = await this.rooms.find(data.roomId);
    const state = this.state(room);
    const nickname = nicknameFor(data.nickname, identity);
    const role = roleOnJoin(room, state, identity, data.ownerSecret, claim);
    if (role === 'owner') return { nickname, role };
    if (state.settings.signedInOnly && !identity) {
      throw new TuttiError('SIGN_IN_REQUIRED', 'this room is for signed-in users: sign in first');
    }
    if (state.isBarred({ accountId: identity?.accountId ?? null, address: peer.ip })) {
      throw new TuttiError('BANNED', 'you were removed from this room and cannot come back');
    }
    if (isModerator(role)) return { nickname, role };
    if (state.settings.locked) throw new TuttiError('ROOM_LOCKED', 'the room is locked');
    if (state.waiting.isDenied(peer.id)) {
      throw new TuttiError('FORBIDDEN', 'a moderator did not let you in');
    }
    if (state.settings.waitingRoom && !state.waiting.isAdmitted(peer.id)) {
      // Someone in a room does not queue for another (the registry refuses the join anyway).
      if (this.rooms.membership(peer.id)) {
        throw new TuttiError('ALREADY_JOINED', 'already in a room; leave it first');
      }
      this.#knock(room, state, peer, nickname);
      throw new TuttiError('WAITING', 'waiting for a moderator to let you in');
    }
    return { nickname, role };
  }

  joined(peer: MemberChannel, roomId: string): void {
    const room = this.rooms.get(roomId);
    if (room) this.state(room).waiting.joined(peer.id);
    this.#waiting.delete(peer.id);
  }

  left(peer: MemberChannel): void {
    const entry = this.#waiting.get(peer.id);
    if (!entry) return;
    this.#waiting.delete(peer.id);
    const room = this.rooms.get(entry.roomId);
    if (room && this.state(room).waiting.forget(peer.id)) this.tellWaitingList(room);
  }

  async accountOf(peer: MemberChannel): Promise<string | null> {
    return (await this.identities.of(peer.id))?.accountId ?? null;
  }

  #knock(room: Room, state: RoomModerationState, peer: MemberChannel, nickname: string): void {
    const elsewhere = this.#waiting.get(peer.id);
    if (elsewhere && elsewhere.roomId !== room.id) this.left(peer);
    const result = state.waiting.knock(peer.id, nickname);
    if (result === 'full') throw new TuttiError('RATE_LIMITED', 'the waiting room is full');
    this.#waiting.set(peer.id, { roomId: room.id, channel: peer });
    this.tellWaitingList(room);
  }

  /** A waiting person's connection (to tell them they were admitted or denied). */
  waitingChannel(roomId: string, waitingId: string): MemberChannel | undefined {
    const entry = this.#waiting.get(waitingId);
    return entry?.roomId === roomId ? entry.channel : undefined;
  }

  dropWaiting(waitingId: string): void {
    this.#waiting.delete(waitingId);
  }

  // ── MediaGuard ──────────────────────────────────────────────────────────────────────

  produce(peer: MemberChannel, source: MediaSource, paused: boolean): void {
    if (source !== 'mic' || paused) return;
    if (this.#heldRoom(peer)) throw heldMic();
  }

  resume(peer: MemberChannel, producerId: string): void {
    const room = this.#heldRoom(peer);
    if (!room) return;
    for (const p of room.member(peer.id)?.media.producers() ?? []) {
      if (p.id === producerId && p.appData.source === 'mic') throw heldMic();
    }
  }

  /** The room in which a moderator holds this member's mic (owners and moderators are never held). */
  #heldRoom(peer: MemberChannel): Room | undefined {
    const membership = this.rooms.membership(peer.id);
    if (!membership || isModerator(membership.role)) return undefined;
    const room = this.rooms.get(membership.roomId);
    return room && this.state(room).micHeld(peer.id) ? room : undefined;
  }

  // ── Telling people ──────────────────────────────────────────────────────────────────

  /** Owners and moderators get the whole waiting list. */
  tellWaitingList(room: Room): void {
    const waiting = this.state(room).waiting.list();
    this.tellModerators(room, 'moderation.waiting', { waiting });
  }

  tellModerators<M extends NotificationMethod>(
    room: Room,
    method: M,
    data: NotificationMap[M],
  ): void {
    const ids = [...room.members()].filter((m) => isModerator(m.info.role)).map((m) => m.id);
    room.tell(ids, method, data);
  }

  // ── Life of rooms and connections ───────────────────────────────────────────────────

  memberLeft(roomId: string, memberId: string): void {
    this.#states.get(roomId)?.memberLeft(memberId);
  }

  /** The room is gone: whoever waits for it is sent away. */
  roomDeleted(roomId: string): void {
    const state = this.#states.get(roomId);
    this.#states.delete(roomId);
    for (const person of state?.waiting.clear() ?? []) {
      const channel = this.waitingChannel(roomId, person.id);
      this.#waiting.delete(person.id);
      void channel?.notify('moderation.denied', { roomId });
    }
  }

  connectionClosed(peer: MemberChannel): void {
    this.left(peer);
    for (const state of this.#states.values()) state.waiting.forget(peer.id);
    this.identities.closed(peer.id);
  }
}

function heldMic(): TuttiError {
  return new TuttiError('FORBIDDEN', 'a moderator muted you; only a moderator can let you unmute');
}

/** The nickname asked for, else the account's name (guests must give one). */
function nicknameFor(asked: string | undefined, identity: Identity | null): string {
  if (asked !== undefined) return asked;
  const fromAccount = identity && nicknameSchema.safeParse(identity.name.slice(0, 32));
  if (fromAccount?.success) return fromAccount.data;
  throw new TuttiError('INVALID_REQUEST', 'nickname: required when not signed in');
}

/** Owner by account, by owner secret or by a trusted claim; a remembered moderator; else a participant. */
function roleOnJoin(
  room: Room,
  state: RoomModerationState,
  identity: Identity | null,
  ownerSecret: string | undefined,
  claim: JoinClaim | undefined,
): Role {
  const { ownerAccountId, ownerSecretHash } = room.record;
  if (identity && ownerAccountId !== null && identity.accountId === ownerAccountId) return 'owner';
  if (ownerSecret !== undefined && verifyOwnerSecret(ownerSecret, ownerSecretHash)) return 'owner';
  if (claim?.role) return claim.role;
  if (state.isRememberedModerator(identity?.accountId ?? null)) return 'moderator';
  return 'participant';
}
