import {
  TuttiError,
  type MediaSource,
  type ModerationSettings,
  type ModerationSnapshot,
  type NotificationMap,
  type NotificationMethod,
  type Role,
  type ValidRequestData,
  type WaitingPerson,
} from '@tutti/protocol';
import { nicknameSchema, safeParseInput } from '@tutti/protocol/schemas';
import type { Logger } from '../kernel/log.ts';
import type { RoomStore } from '../store/RoomStore.ts';
import type { MemberChannel } from '../rooms/ports.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { verifyOwnerSecret } from '../rooms/security.ts';
import type { Admission, Identity, JoinClaim, MediaGuard } from '../rooms/admission.ts';
import type { Identities } from './identities.ts';
import type { RemoteModeration, SharedChange } from './remote.ts';
import { isModerator } from './roles.ts';
import { RoomModerationState, sameSettings } from './roomState.ts';
import {
  MemoryModerationState,
  type SharedModerationState,
  type WaitingEntry,
} from './sharedState.ts';

/** Most people waiting for one room, cluster-wide. */
const MAX_WAITING = 200;

export interface ModerationDeps {
  rooms: RoomRegistry;
  store: RoomStore;
  identities: Identities;
  log: Logger;
  now?: () => number;
  /** The cluster side (federation/moderationRelay.ts); lazily, it is wired later. */
  remote?: () => RemoteModeration | undefined;
}

/**
 * Moderation's door of every room and what this node keeps: who may join and as whom
 * (Admission, read from the cluster's shared state at each join), what a held mic may not do
 * (MediaGuard), who waits on this node. The moderator actions are in actions.ts; both take
 * only ids (room, actor, target), so a cluster RPC can call them for another node's member.
 */
export class Moderation implements Admission, MediaGuard {
  readonly rooms: RoomRegistry;
  readonly store: RoomStore;
  readonly identities: Identities;
  readonly log: Logger;
  readonly #now: (() => number) | undefined;
  readonly #remote: () => RemoteModeration | undefined;
  readonly #alone = new MemoryModerationState();
  readonly #states = new Map<string, RoomModerationState>();
  /** Connection id → the room it waits for, and how to tell it. */
  readonly #waiting = new Map<string, { roomId: string; channel: MemberChannel }>();

  constructor(deps: ModerationDeps) {
    this.rooms = deps.rooms;
    this.store = deps.store;
    this.identities = deps.identities;
    this.log = deps.log;
    this.#now = deps.now;
    this.#remote = deps.remote ?? (() => undefined);
  }

  get remote(): RemoteModeration | undefined {
    return this.#remote();
  }

  /** The room-wide state every node reads (Redis in a cluster; memory for a node alone). */
  get shared(): SharedModerationState {
    return this.#remote()?.state ?? this.#alone;
  }

  /** The room's moderation state on this node (created from its stored settings on first use). */
  state(room: Room): RoomModerationState {
    let state = this.#states.get(room.id);
    if (!state) {
      state = new RoomModerationState(room.record.settings, this.#now);
      this.#states.set(room.id, state);
    }
    return state;
  }

  /** The settings as the cluster has them now (MEDIA_UNAVAILABLE when the shared state is down). */
  async currentSettings(room: Room): Promise<ModerationSettings> {
    const live = await shared(this.shared.settings(room.id));
    return live ?? { ...this.state(room).settings, ...room.record.settings };
  }

  async snapshot(room: Room, forRole: Role): Promise<ModerationSnapshot> {
    const waiting = isModerator(forRole) ? await this.waitingList(room.id) : [];
    return { settings: { ...this.state(room).settings }, waiting };
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
    const accountId = identity?.accountId ?? null;
    const door = await shared(this.shared.door(room.id, { accountId, address: peer.ip }));
    // What this door reads is the truth: a change whose announcement is late is caught up.
    this.applySettings(room, door.settings ?? { ...state.settings, ...room.record.settings });
    const settings = state.settings;
    const nickname = nicknameFor(data.nickname, identity);
    const role = roleOnJoin(room, door.rememberedModerator, identity, data.ownerSecret, claim);
    if (role === 'owner') return { nickname, role };
    if (settings.signedInOnly && !identity) {
      throw new TuttiError('SIGN_IN_REQUIRED', 'this room is for signed-in users: sign in first');
    }
    if (door.barred) {
      throw new TuttiError('BANNED', 'you were removed from this room and cannot come back');
    }
    if (isModerator(role)) return { nickname, role };
    if (settings.locked) throw new TuttiError('ROOM_LOCKED', 'the room is locked');
    if (state.waiting.isDenied(peer.id)) {
      throw new TuttiError('FORBIDDEN', 'a moderator did not let you in');
    }
    if (settings.waitingRoom && !state.waiting.isAdmitted(peer.id)) {
      // Someone in a room does not queue for another (the registry refuses the join anyway).
      if (this.rooms.membership(peer.id)) {
        throw new TuttiError('ALREADY_JOINED', 'already in a room; leave it first');
      }
      await this.#knock(room, state, peer, nickname);
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
    if (room && this.state(room).waiting.forget(peer.id)) void this.offTheList(room, [peer.id]);
  }

  async accountOf(peer: MemberChannel): Promise<string | null> {
    return (await this.identities.of(peer.id))?.accountId ?? null;
  }

  async #knock(
    room: Room,
    state: RoomModerationState,
    peer: MemberChannel,
    nickname: string,
  ): Promise<void> {
    const elsewhere = this.#waiting.get(peer.id);
    if (elsewhere && elsewhere.roomId !== room.id) this.left(peer);
    const local = state.waiting.knock(peer.id, nickname);
    const person = state.waiting.list().find((p) => p.id === peer.id);
    const nodeId = this.remote?.nodeId ?? 'local';
    const entry: WaitingEntry = { id: peer.id, nickname, since: person?.since ?? 0, nodeId };
    const result =
      local === 'full' ? 'full' : await shared(this.shared.knock(room.id, entry, MAX_WAITING));
    if (result === 'full') {
      state.waiting.forget(peer.id);
      throw new TuttiError('RATE_LIMITED', 'the waiting room is full');
    }
    this.#waiting.set(peer.id, { roomId: room.id, channel: peer });
    void this.listChanged(room);
  }

  /** A waiting person's connection on this node (to tell them they were admitted or denied). */
  waitingChannel(roomId: string, waitingId: string): MemberChannel | undefined {
    const entry = this.#waiting.get(waitingId);
    return entry?.roomId === roomId ? entry.channel : undefined;
  }

  dropWaiting(waitingId: string): void {
    this.#waiting.delete(waitingId);
  }

  /** The room's waiting list, cluster-wide (people waiting on a node that died are left out). */
  async waitingList(roomId: string): Promise<WaitingPerson[]> {
    return (await this.waitingEntries(roomId)).map(({ id, nickname, since }) => ({
      id,
      nickname,
      since,
    }));
  }

  async waitingEntries(roomId: string): Promise<WaitingEntry[]> {
    const remote = this.remote;
    const entries = await shared(this.shared.waiting(roomId));
    return entries.filter((e) => !remote || e.nodeId === remote.nodeId || remote.live(e.nodeId));
  }

  /** Someone waiting here was admitted: a ticket for their next room.join, and they are told. */
  admitHere(room: Room, waitingId: string): boolean {
    if (!this.state(room).waiting.admit(waitingId)) return false;
    // The ticket waits for their room.join; the channel stays known until then.
    void this.waitingChannel(room.id, waitingId)?.notify('moderation.admitted', {
      roomId: room.id,
    });
    return true;
  }

  // ── Settings as the cluster has them ────────────────────────────────────────────────

  /**
   * The room's settings are now `next` (read from the shared state): if they changed, this
   * node's members are told, and turning the waiting room off admits whoever waits here.
   */
  applySettings(room: Room, next: ModerationSettings): void {
    const state = this.state(room);
    const was = state.settings;
    if (sameSettings(was, next)) return;
    state.settings = { ...next };
    room.broadcast('moderation.settings', { settings: { ...next } });
    if (was.waitingRoom && !next.waitingRoom) {
      const admitted = state.waiting.list().filter((p) => this.admitHere(room, p.id));
      void this.offTheList(
        room,
        admitted.map((p) => p.id),
      );
    }
  }

  /** Another node changed the room's shared state: read it again, tell our members. */
  async changed(roomId: string, change: SharedChange): Promise<void> {
    const room = this.rooms.get(roomId);
    if (!room) return;
    if (change === 'settings') this.applySettings(room, await this.currentSettings(room));
    else await this.tellWaitingList(room);
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

  /** People went off the waiting list: off the shared one too, and every moderator is told. */
  async offTheList(room: Room, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.shared
      .unknock(room.id, ids)
      .catch((err: unknown) => this.log.warn({ err, roomId: room.id }, 'waiting list not updated'));
    await this.listChanged(room);
  }

  /** The waiting list changed: moderators here are told, and the other nodes' ones. */
  listChanged(room: Room): Promise<void> {
    this.remote?.announce(room.id, 'waiting');
    return this.tellWaitingList(room);
  }

  /** Owners and moderators on this node get the whole (cluster-wide) waiting list. */
  async tellWaitingList(room: Room): Promise<void> {
    try {
      const waiting = await this.waitingList(room.id);
      this.tellModerators(room, 'moderation.waiting', { waiting });
    } catch (err) {
      this.log.warn({ err, roomId: room.id }, 'waiting list not read');
    }
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

  /** The room is gone: whoever waits for it is sent away, its shared state goes. */
  roomDeleted(roomId: string): void {
    const state = this.#states.get(roomId);
    this.#states.delete(roomId);
    for (const person of state?.waiting.clear() ?? []) {
      const channel = this.waitingChannel(roomId, person.id);
      this.#waiting.delete(person.id);
      void channel?.notify('moderation.denied', { roomId });
    }
    this.shared
      .forget(roomId)
      .catch((err: unknown) => this.log.warn({ err, roomId }, 'moderation state not deleted'));
  }

  connectionClosed(peer: MemberChannel): void {
    this.left(peer);
    for (const state of this.#states.values()) state.waiting.forget(peer.id);
    this.identities.closed(peer.id);
  }
}

/**
 * A call to the shared state; failing (Redis down, late) → MEDIA_UNAVAILABLE, as presence
 * answers a join when the cluster can't be reached (nothing changed; try again).
 */
export async function shared<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof TuttiError) throw err;
    throw new TuttiError('MEDIA_UNAVAILABLE', 'moderation: the cluster is unavailable; try again');
  }
}

function heldMic(): TuttiError {
  return new TuttiError('FORBIDDEN', 'a moderator muted you; only a moderator can let you unmute');
}

/** The nickname asked for, else the account's name (guests must give one). */
function nicknameFor(asked: string | undefined, identity: Identity | null): string {
  if (asked !== undefined) return asked;
  const fromAccount = identity && safeParseInput(nicknameSchema, identity.name.slice(0, 32));
  if (fromAccount?.success) return fromAccount.data;
  throw new TuttiError('INVALID_REQUEST', 'nickname: required when not signed in');
}

/** Owner by account, by owner secret or by a trusted claim; a remembered moderator; else a participant. */
function roleOnJoin(
  room: Room,
  rememberedModerator: boolean,
  identity: Identity | null,
  ownerSecret: string | undefined,
  claim: JoinClaim | undefined,
): Role {
  const { ownerAccountId, ownerSecretHash } = room.record;
  if (identity && ownerAccountId !== null && identity.accountId === ownerAccountId) return 'owner';
  if (ownerSecret !== undefined && verifyOwnerSecret(ownerSecret, ownerSecretHash)) return 'owner';
  if (claim?.role) return claim.role;
  if (rememberedModerator) return 'moderator';
  return 'participant';
}
