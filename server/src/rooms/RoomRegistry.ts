import { randomUUID } from 'node:crypto';
import type { Config } from '@tutti/config';
import type { WorkerPool } from '@tutti/media-workers';
import type { Router } from 'mediasoup/types';
import {
  TuttiError,
  type IceSettings,
  type JoinResult,
  type PeerInfo,
  type RequestMap,
  type RoomSummary,
} from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import { NameTakenError, type RoomRecord, type RoomStore } from '../store/RoomStore.ts';
import { RoomAccess } from './access.ts';
import { RoomExtensions } from './extensions.ts';
import { IdleRooms } from './idle.ts';
import { Lobby } from './Lobby.ts';
import type {
  JoinExtras,
  MemberChannel,
  MemberRef,
  Membership,
  RoomDirectory,
  RoomExtension,
} from './ports.ts';
import { Room, type Member } from './Room.ts';
import { hashOwnerSecret, newOwnerSecret, roomNameKey } from './security.ts';

export interface RoomChanges {
  name?: string | undefined;
  /** null removes the password. */
  password?: string | null | undefined;
  capacity?: number | null | undefined;
}

export interface RegistryDeps {
  config: Config;
  store: RoomStore;
  pool: WorkerPool;
  log: Logger;
  now?: () => number;
}

/** Why a room is deleted; its members are told `room.closed { reason: 'deleted' }` either way. */
type DeletionCause = 'owner' | 'idle';

/**
 * All rooms of this node, and who sits where: create/find/update/delete, join/leave, and the
 * RoomDirectory other concerns ask. Access control, the lobby and the idle clock are pieces
 * of their own; concerns contribute through use(). Room metadata lives in the RoomStore, so
 * rooms survive a restart.
 */
export class RoomRegistry implements RoomDirectory {
  readonly #deps: RegistryDeps;
  readonly #now: () => number;
  readonly #rooms = new Map<string, Room>();
  /** Connection id → the room it has joined. */
  readonly #memberships = new Map<string, Room>();
  readonly #extensions: RoomExtensions;
  readonly #access: RoomAccess;
  readonly #lobby: Lobby;
  readonly #idle: IdleRooms;
  #closing: Promise<void> | undefined;

  /** Loads the stored rooms (they survive restarts), then returns the registry. */
  static async create(deps: RegistryDeps): Promise<RoomRegistry> {
    return new RoomRegistry(deps, await deps.store.list());
  }

  private constructor(deps: RegistryDeps, stored: readonly RoomRecord[]) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#access = new RoomAccess(deps.config, { now: this.#now });
    this.#extensions = new RoomExtensions(deps.log);
    this.#lobby = new Lobby(() => this.list());
    this.#idle = new IdleRooms({ ...deps, now: this.#now });
    for (const record of stored) this.#idle.restarted(this.#add(record));
  }

  /** Registers a concern's contribution (at start-up, before the server listens). */
  use(ext: RoomExtension): void {
    this.#extensions.use(ext);
  }

  // ── Queries ─────────────────────────────────────────────────────────────────────────

  get(id: string): Room | undefined {
    return this.#rooms.get(id);
  }

  /** Throws ROOM_NOT_FOUND. */
  require(id: string): Room {
    const room = this.#rooms.get(id);
    if (!room) throw new TuttiError('ROOM_NOT_FOUND', 'room not found');
    return room;
  }

  list(): RoomSummary[] {
    return [...this.#rooms.values()]
      .map((r) => r.summary())
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  rooms(): Room[] {
    return [...this.#rooms.values()];
  }

  // ── RoomDirectory ───────────────────────────────────────────────────────────────────

  membership(channelId: string): Membership | undefined {
    const room = this.#memberships.get(channelId);
    const member = room?.member(channelId);
    return room && member && { roomId: room.id, nickname: member.info.nickname };
  }

  requireMembership(channelId: string): Membership {
    const m = this.membership(channelId);
    if (!m) throw new TuttiError('NOT_JOINED', 'join a room first');
    return m;
  }

  member(roomId: string, peerId: string): MemberRef | undefined {
    const info = this.#rooms.get(roomId)?.member(peerId)?.info;
    return info && { id: info.id, nickname: info.nickname };
  }

  *members(roomId: string): Iterable<MemberChannel> {
    const room = this.#rooms.get(roomId);
    if (room) for (const m of room.members()) yield m.channel;
  }

  /** The room and member behind a connection; throws NOT_JOINED. */
  requireMember(channel: MemberChannel): { room: Room; member: Member } {
    const room = this.#memberships.get(channel.id);
    const member = room?.member(channel.id);
    if (!room || !member) throw new TuttiError('NOT_JOINED', 'join a room first');
    return { room, member };
  }

  // ── Create / update / delete ────────────────────────────────────────────────────────

  /** `ip`: the client address, capped at signaling.roomCreatesPerMinute (RATE_LIMITED). */
  async create(
    args: RequestMap['room.create'],
    ip: string,
  ): Promise<{ room: RoomSummary; ownerSecret: string }> {
    this.#access.takeCreate(ip);
    this.#checkCapacity(args.capacity);
    const nameKey = roomNameKey(args.name);
    this.#checkNameFree(nameKey);
    const passwordHash = args.password ? await this.#access.hashPassword(args.password, ip) : null;
    const ownerSecret = newOwnerSecret();
    const record: RoomRecord = {
      id: randomUUID(),
      name: args.name,
      nameKey,
      passwordHash,
      capacity: args.capacity ?? null,
      ownerSecretHash: hashOwnerSecret(ownerSecret),
      createdAt: this.#now(),
      emptySince: this.#now(),
      e2ee: args.e2ee ?? false,
    };
    this.#checkNameFree(nameKey); // Again: the hash awaited.
    await this.#persist(() => this.#deps.store.insert(record)); // Unique there too: NAME_TAKEN.
    const room = this.#add(record);
    this.#lobby.changed();
    this.#deps.log.info({ roomId: record.id }, 'room created');
    return { room: room.summary(), ownerSecret };
  }

  async update(
    id: string,
    ownerSecret: string,
    ip: string,
    changes: RoomChanges,
  ): Promise<RoomSummary> {
    const room = this.#requireOwned(id, ownerSecret, ip);
    this.#checkCapacity(changes.capacity ?? undefined);
    const next: RoomRecord = { ...room.record };
    if (changes.name !== undefined) {
      next.name = changes.name;
      next.nameKey = roomNameKey(changes.name);
      if (next.nameKey !== room.record.nameKey) this.#checkNameFree(next.nameKey);
    }
    if (changes.password !== undefined) {
      next.passwordHash =
        changes.password === null ? null : await this.#access.hashPassword(changes.password, ip);
    }
    if (changes.capacity !== undefined) next.capacity = changes.capacity;
    if (room.closed || !this.#rooms.has(id)) {
      throw new TuttiError('ROOM_NOT_FOUND', 'room not found');
    }
    await this.#persist(() => this.#deps.store.update(next));
    if (room.closed || !this.#rooms.has(id)) {
      throw new TuttiError('ROOM_NOT_FOUND', 'room not found');
    }
    room.replaceRecord(next);
    const summary = room.summary();
    room.broadcast('room.updated', { room: summary });
    this.#lobby.changed();
    return summary;
  }

  /**
   * Owner deletion. If `requester` is a member, it is told and removed like everyone else
   * but its socket is left open: the caller closes it after answering.
   */
  async delete(
    id: string,
    ownerSecret: string,
    ip: string,
    requester?: MemberChannel,
  ): Promise<void> {
    const room = this.#requireOwned(id, ownerSecret, ip);
    await this.#delete(room, 'owner', requester?.id);
  }

  async #delete(room: Room, cause: DeletionCause, keepSocketOf?: string): Promise<void> {
    if (this.#rooms.get(room.id) !== room) return;
    // Out of the map first, so no one joins while the store deletes; back in if it fails.
    this.#rooms.delete(room.id);
    try {
      await this.#deps.store.delete(room.id);
    } catch (err) {
      this.#rooms.set(room.id, room);
      throw err;
    }
    this.#lobby.changed();
    this.#deps.log.info({ roomId: room.id, cause }, 'room deleted');
    await room.close('deleted', keepSocketOf);
    await this.#extensions.roomDeleted(room.id);
  }

  // ── Join / leave ────────────────────────────────────────────────────────────────────

  /**
   * Checks the password (see RoomAccess: counted before the hash, per address and room, one
   * scrypt per address at a time), makes sure the newcomer's router
   * exists, then admits it (capacity, nickname de-dup) and asks the contributions for their
   * part of the answer in that same tick.
   */
  async join(
    channel: MemberChannel,
    roomId: string,
    nickname: string,
    password: string | undefined,
  ): Promise<Omit<JoinResult, keyof IceSettings>> {
    this.#checkNotJoined(channel);
    const room = this.require(roomId);
    const done = room.beginJoin();
    let admitted: { self: PeerInfo; router: Router; extras: Promise<JoinExtras> };
    try {
      await this.#access.checkPassword(room.id, room.record.passwordHash, password, channel.ip);
      const router = await room.media.routerFor(channel.id);
      if (channel.closed) throw new TuttiError('NOT_JOINED', 'connection closed');
      this.#checkNotJoined(channel);
      if (room.closed || !this.#rooms.has(roomId)) {
        throw new TuttiError('ROOM_NOT_FOUND', 'room not found');
      }
      const self = room.admit(channel, nickname);
      admitted = { self, router, extras: this.#extensions.joinAnswer(room.id, channel) };
    } finally {
      done();
    }
    const { self, router } = admitted;
    return {
      self,
      peers: room.peers().filter((p) => p.id !== self.id),
      room: room.summary(),
      routerRtpCapabilities: router.rtpCapabilities,
      history: [], // the chat's page replaces it (extras: history, game, hands)
      ...(await admitted.extras),
    };
  }

  leave(channel: MemberChannel): void {
    this.#memberships.get(channel.id)?.remove(channel.id);
  }

  /** The connection went away: out of the lobby and its room, then the contributions forget it. */
  connectionClosed(channel: MemberChannel): void {
    this.#lobby.unsubscribe(channel);
    this.leave(channel);
    this.#extensions.connectionClosed(channel);
  }

  // ── Lobby ───────────────────────────────────────────────────────────────────────────

  subscribeLobby(channel: MemberChannel): RoomSummary[] {
    this.#lobby.subscribe(channel);
    return this.list();
  }

  unsubscribeLobby(channel: MemberChannel): void {
    this.#lobby.unsubscribe(channel);
  }

  get lobbySize(): number {
    return this.#lobby.size;
  }

  // ── Idle cleanup, shutdown ──────────────────────────────────────────────────────────

  /** Deletes rooms that have been empty for longer than rooms.idleTtlSeconds. Returns their ids. */
  async cleanup(): Promise<string[]> {
    const deleted: string[] = [];
    for (const room of this.#idle.expired(this.#rooms.values())) {
      try {
        await this.#delete(room, 'idle');
        deleted.push(room.id);
      } catch (err) {
        this.#deps.log.warn({ err, roomId: room.id }, 'idle room not deleted; next sweep retries');
      }
    }
    this.#access.prune();
    return deleted;
  }

  startCleanup(): void {
    this.#idle.start(() => this.cleanup());
  }

  /**
   * Server shutdown: tell members, disconnect them. Rooms stay in the store. Every room is
   * marked closed synchronously (before the first await), so a worker closing right after
   * is ignored by the rooms; calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#idle.stop();
    this.#lobby.close();
    await Promise.all([...this.#rooms.values()].map((r) => r.close('shutdown')));
    await this.#idle.settled(); // The last idle-clock writes reach the store before it closes.
  }

  // ── Internals ───────────────────────────────────────────────────────────────────────

  #add(record: RoomRecord): Room {
    const { config, pool, log } = this.#deps;
    const room = new Room(record, { config, pool, log });
    this.#rooms.set(room.id, room);
    room.on('joined', (member) => this.#memberships.set(member.id, room));
    room.on('left', (member) => {
      if (this.#memberships.get(member.id) === room) this.#memberships.delete(member.id);
      this.#extensions.memberLeft(room.id, member.id, room.size === 0);
    });
    room.on('changed', () => this.#lobby.changed());
    this.#idle.watch(room);
    return room;
  }

  /** The room, if `ownerSecret` is its owner's (ROOM_NOT_FOUND, FORBIDDEN; wrong ones are logged). */
  #requireOwned(id: string, ownerSecret: string, ip: string): Room {
    const room = this.require(id);
    try {
      this.#access.checkOwner(room.record.ownerSecretHash, ownerSecret);
    } catch (err) {
      this.#deps.log.warn({ roomId: id, ip }, 'wrong owner secret');
      throw err;
    }
    return room;
  }

  #checkNotJoined(channel: MemberChannel): void {
    if (this.#memberships.has(channel.id)) {
      throw new TuttiError('ALREADY_JOINED', 'already in a room; leave it first');
    }
  }

  #checkNameFree(nameKey: string): void {
    for (const r of this.#rooms.values()) if (r.record.nameKey === nameKey) throw nameTaken();
  }

  #checkCapacity(capacity: number | undefined): void {
    const max = this.#deps.config.rooms.maxCapacity;
    if (capacity !== undefined && capacity > max) {
      throw new TuttiError('INVALID_REQUEST', `capacity: at most ${max}`);
    }
  }

  async #persist(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (err instanceof NameTakenError) throw nameTaken();
      throw err;
    }
  }
}

function nameTaken(): TuttiError {
  return new TuttiError('ROOM_NAME_TAKEN', 'a room with that name already exists');
}
