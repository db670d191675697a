import { randomUUID } from 'node:crypto';
import type { Config } from '@tutti/config';
import type { WorkerPool } from '@tutti/media-workers';
import { TuttiError, type RoomSummary } from '@tutti/protocol';
import { NameTakenError, type RoomRecord, type RoomStore } from '../store/RoomStore.ts';
import { KeyedRateLimiter } from '../kernel/rateLimit.ts';
import type {
  JoinExtras,
  MemberChannel as Peer,
  MemberRef,
  Membership,
  RoomDirectory,
  RoomExtension,
} from './ports.ts';
import { Room, type RoomLogger } from './Room.ts';
import {
  AttemptLimiter,
  hashOwnerSecret,
  hashPassword,
  newOwnerSecret,
  roomNameKey,
  verifyOwnerSecret,
  verifyPassword,
} from './security.ts';

export type RoomDeletedHook = (roomId: string) => void | Promise<void>;
export type PeerLeftHook = (peer: Peer, roomId: string) => void;
export type PeerDisconnectedHook = (peer: Peer) => void;

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
  log: RoomLogger;
  now?: () => number;
}

/**
 * All rooms: create/find/update/delete, the lobby subscribers, the failed-attempt limiter,
 * and the idle cleanup. Room metadata lives in the RoomStore, so rooms survive a restart.
 */
export class RoomRegistry implements RoomDirectory {
  readonly #deps: RegistryDeps;
  readonly #now: () => number;
  readonly #rooms = new Map<string, Room>();
  readonly #lobby = new Set<Peer>();
  readonly #limiter: AttemptLimiter;
  /** room.create per client address (signaling.roomCreatesPerMinute). */
  readonly #createLimiter: KeyedRateLimiter;
  readonly #deletedHooks: RoomDeletedHook[] = [];
  readonly #peerLeftHooks: PeerLeftHook[] = [];
  readonly #disconnectedHooks: PeerDisconnectedHook[] = [];
  readonly #joinAnswers: NonNullable<RoomExtension['joinAnswer']>[] = [];
  #lobbyTimer: NodeJS.Timeout | undefined;
  #cleanupTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Debounce for lobby.rooms pushes. */
  lobbyDebounceMs = 100;

  constructor(deps: RegistryDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    const r = deps.config.rooms;
    this.#limiter = new AttemptLimiter({
      maxAttempts: r.passwordMaxAttempts,
      windowMs: r.passwordWindowSeconds * 1000,
      lockoutMs: r.passwordLockoutSeconds * 1000,
      now: this.#now,
    });
    const perMinute = deps.config.signaling.roomCreatesPerMinute;
    this.#createLimiter = new KeyedRateLimiter({
      ratePerSecond: perMinute / 60,
      burst: perMinute,
      now: this.#now,
    });
    for (const record of deps.store.list()) {
      if (record.emptySince === null) {
        // Everybody was disconnected by the restart: the idle clock starts now.
        record.emptySince = this.#now();
        deps.store.setEmptySince(record.id, record.emptySince);
      }
      this.#add(new Room(record, { config: deps.config, pool: deps.pool, log: deps.log }));
    }
  }

  // ── Hooks for other concerns ────────────────────────────────────────────────────────

  /** Runs after a room is deleted (by its owner or the idle cleanup). */
  onRoomDeleted(hook: RoomDeletedHook): void {
    this.#deletedHooks.push(hook);
  }

  /** Runs after a member left a room (leave, disconnect, room closing). */
  onPeerLeft(hook: PeerLeftHook): void {
    this.#peerLeftHooks.push(hook);
  }

  /** Runs after a signaling connection closed (after it left its room, if any). */
  onPeerDisconnected(hook: PeerDisconnectedHook): void {
    this.#disconnectedHooks.push(hook);
  }

  /** Registers what a concern contributes (once, at start-up). */
  use(ext: RoomExtension): void {
    if (ext.joinAnswer) this.#joinAnswers.push(ext.joinAnswer.bind(ext));
    if (ext.roomDeleted) this.onRoomDeleted(ext.roomDeleted.bind(ext));
    if (ext.connectionClosed) this.onPeerDisconnected(ext.connectionClosed.bind(ext));
  }

  /** The extra room.join answer fields of every extension (a failing one adds nothing). */
  async joinAnswer(roomId: string, member: Peer): Promise<JoinExtras> {
    const extras: JoinExtras = {};
    for (const contribute of this.#joinAnswers) {
      try {
        Object.assign(extras, await contribute(roomId, member));
      } catch (err) {
        this.#deps.log.error({ err, roomId }, 'join answer extension failed');
      }
    }
    return extras;
  }

  // ── RoomDirectory ───────────────────────────────────────────────────────────────────

  membership(channelId: string): Membership | undefined {
    for (const room of this.#rooms.values()) {
      const info = room.peerInfo(channelId);
      if (info) return { roomId: room.id, nickname: info.nickname };
    }
    return undefined;
  }

  requireMembership(channelId: string): Membership {
    const m = this.membership(channelId);
    if (!m) throw new TuttiError('NOT_JOINED', 'join a room first');
    return m;
  }

  member(roomId: string, peerId: string): MemberRef | undefined {
    const info = this.#rooms.get(roomId)?.peerInfo(peerId);
    return info && { id: info.id, nickname: info.nickname };
  }

  *members(roomId: string): Iterable<Peer> {
    const room = this.#rooms.get(roomId);
    if (!room) return;
    for (const info of room.peers()) {
      const peer = room.getPeer(info.id);
      if (peer) yield peer;
    }
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

  // ── Create / update / delete ────────────────────────────────────────────────────────

  /** `ip`: the client address, capped at signaling.roomCreatesPerMinute (RATE_LIMITED). */
  async create(
    args: {
      name: string;
      password?: string | undefined;
      capacity?: number | undefined;
    },
    ip: string,
  ): Promise<{ room: RoomSummary; ownerSecret: string }> {
    if (!this.#createLimiter.take(ip)) {
      throw new TuttiError('RATE_LIMITED', 'too many rooms created from your address; try later');
    }
    this.#checkCapacity(args.capacity);
    const nameKey = roomNameKey(args.name);
    this.#checkNameFree(nameKey);
    const passwordHash = args.password ? await hashPassword(args.password) : null;
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
    };
    this.#checkNameFree(nameKey); // Again: the hash awaited.
    try {
      this.#deps.store.insert(record);
    } catch (err) {
      if (err instanceof NameTakenError) throw nameTaken();
      throw err;
    }
    const room = new Room(record, {
      config: this.#deps.config,
      pool: this.#deps.pool,
      log: this.#deps.log,
    });
    this.#add(room);
    this.#lobbyChanged();
    this.#deps.log.info({ roomId: record.id }, 'room created');
    return { room: room.summary(), ownerSecret };
  }

  async update(
    id: string,
    ownerSecret: string,
    ip: string,
    changes: RoomChanges,
  ): Promise<RoomSummary> {
    const room = this.require(id);
    this.checkOwner(room, ownerSecret, ip);
    this.#checkCapacity(changes.capacity ?? undefined);
    const next: RoomRecord = { ...room.record };
    if (changes.name !== undefined) {
      next.name = changes.name;
      next.nameKey = roomNameKey(changes.name);
      if (next.nameKey !== room.record.nameKey) this.#checkNameFree(next.nameKey);
    }
    if (changes.password !== undefined) {
      next.passwordHash = changes.password === null ? null : await hashPassword(changes.password);
    }
    if (changes.capacity !== undefined) next.capacity = changes.capacity;
    if (room.closed || !this.#rooms.has(id))
      throw new TuttiError('ROOM_NOT_FOUND', 'room not found');
    try {
      this.#deps.store.update(next);
    } catch (err) {
      if (err instanceof NameTakenError) throw nameTaken();
      throw err;
    }
    room.record = next;
    const summary = room.summary();
    room.broadcast('room.updated', { room: summary });
    this.#lobbyChanged();
    return summary;
  }

  /**
   * Owner deletion. If `requester` is a member, it is told and removed like everyone else
   * but its socket is left open: the caller closes it after answering.
   */
  async delete(id: string, ownerSecret: string, ip: string, requester?: Peer): Promise<void> {
    const room = this.require(id);
    this.checkOwner(room, ownerSecret, ip);
    await this.#deleteRoom(room, 'deleted', requester?.id);
  }

  async #deleteRoom(room: Room, reason: 'deleted' | 'idle', keepSocketOf?: string): Promise<void> {
    if (!this.#rooms.has(room.id)) return;
    this.#rooms.delete(room.id);
    this.#deps.store.delete(room.id);
    this.#lobbyChanged();
    this.#deps.log.info({ roomId: room.id, reason }, 'room deleted');
    await room.close('deleted', keepSocketOf);
    for (const hook of this.#deletedHooks) {
      try {
        await hook(room.id);
      } catch (err) {
        this.#deps.log.error({ err, roomId: room.id }, 'onRoomDeleted hook failed');
      }
    }
  }

  /** Throws FORBIDDEN for a wrong owner secret (counted by the limiter like passwords). */
  checkOwner(room: Room, ownerSecret: string, ip: string): void {
    this.#checkLimiter(ip);
    if (!verifyOwnerSecret(ownerSecret, room.record.ownerSecretHash)) {
      this.#limiter.fail(ip);
      throw new TuttiError('FORBIDDEN', 'only the room owner may do that');
    }
  }

  // ── Join / leave ────────────────────────────────────────────────────────────────────

  /**
   * Validates the password (limiter + constant-time check), makes sure the router exists,
   * then admits the peer (capacity, nickname de-dup). Returns the room and final PeerInfo.
   */
  async join(peer: Peer, roomId: string, nickname: string, password: string | undefined) {
    if (this.membership(peer.id)) {
      throw new TuttiError('ALREADY_JOINED', 'already in a room; leave it first');
    }
    const room = this.require(roomId);
    const done = room.beginJoin();
    try {
      if (room.record.passwordHash !== null) {
        this.#checkLimiter(peer.ip);
        const ok =
          password !== undefined && (await verifyPassword(password, room.record.passwordHash));
        if (!ok) {
          this.#limiter.fail(peer.ip);
          throw new TuttiError(
            'BAD_PASSWORD',
            password === undefined ? 'this room needs a password' : 'wrong password',
          );
        }
      }
      if (room.size >= room.capacity)
        throw new TuttiError('ROOM_FULL', `room is full (${room.capacity} people)`);
      const router = await room.ensureRouter();
      if (peer.closed) throw new TuttiError('NOT_JOINED', 'connection closed');
      if (this.membership(peer.id)) {
        throw new TuttiError('ALREADY_JOINED', 'already in a room; leave it first');
      }
      if (room.closed || !this.#rooms.has(roomId))
        throw new TuttiError('ROOM_NOT_FOUND', 'room not found');
      const self = room.admit(peer, nickname);
      return { room, self, routerRtpCapabilities: router.rtpCapabilities };
    } finally {
      done();
    }
  }

  leave(peer: Peer): void {
    const roomId = this.membership(peer.id)?.roomId;
    if (!roomId) return;
    // The room's 'peerLeft' event runs the hooks (also when a deleted room drops everyone).
    this.#rooms.get(roomId)?.remove(peer.id);
  }

  /** The connection went away. */
  connectionClosed(peer: Peer): void {
    this.unsubscribeLobby(peer);
    this.leave(peer);
    for (const hook of this.#disconnectedHooks) {
      try {
        hook(peer);
      } catch (err) {
        this.#deps.log.error({ err, peerId: peer.id }, 'onPeerDisconnected hook failed');
      }
    }
  }

  // ── Lobby ───────────────────────────────────────────────────────────────────────────

  subscribeLobby(peer: Peer): RoomSummary[] {
    if (!peer.closed) this.#lobby.add(peer);
    return this.list();
  }

  unsubscribeLobby(peer: Peer): void {
    this.#lobby.delete(peer);
  }

  get lobbySize(): number {
    return this.#lobby.size;
  }

  #lobbyChanged(): void {
    if (this.#closed || this.#lobbyTimer) return;
    this.#lobbyTimer = setTimeout(() => {
      this.#lobbyTimer = undefined;
      const rooms = this.list();
      for (const peer of this.#lobby) {
        if (peer.closed) this.#lobby.delete(peer);
        else void peer.notify('lobby.rooms', { rooms });
      }
    }, this.lobbyDebounceMs);
  }

  // ── Idle cleanup ────────────────────────────────────────────────────────────────────

  /** Deletes rooms that have been empty for longer than rooms.idleTtlSeconds. Returns their ids. */
  async cleanup(): Promise<string[]> {
    const ttl = this.#deps.config.rooms.idleTtlSeconds * 1000;
    const now = this.#now();
    const expired = [...this.#rooms.values()].filter(
      (r) => r.size === 0 && r.record.emptySince !== null && now - r.record.emptySince >= ttl,
    );
    for (const room of expired) await this.#deleteRoom(room, 'idle');
    this.#limiter.prune();
    this.#createLimiter.prune();
    return expired.map((r) => r.id);
  }

  startCleanup(): void {
    const every = this.#deps.config.rooms.cleanupIntervalSeconds * 1000;
    this.#cleanupTimer = setInterval(() => {
      this.cleanup().catch((err: unknown) => this.#deps.log.error({ err }, 'room cleanup failed'));
    }, every);
    this.#cleanupTimer.unref();
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
    this.#closed = true;
    if (this.#cleanupTimer) clearInterval(this.#cleanupTimer);
    if (this.#lobbyTimer) clearTimeout(this.#lobbyTimer);
    await Promise.all([...this.#rooms.values()].map((r) => r.close('shutdown')));
    this.#lobby.clear();
  }

  // ── Internals ───────────────────────────────────────────────────────────────────────

  #add(room: Room): void {
    this.#rooms.set(room.id, room);
    room.on('changed', () => this.#lobbyChanged());
    room.on('peerLeft', (peer) => {
      for (const hook of this.#peerLeftHooks) {
        try {
          hook(peer, room.id);
        } catch (err) {
          this.#deps.log.error({ err, roomId: room.id }, 'onPeerLeft hook failed');
        }
      }
    });
    room.on('empty', () => {
      room.record.emptySince = this.#now();
      this.#deps.store.setEmptySince(room.id, room.record.emptySince);
    });
    room.on('changed', () => {
      if (room.size > 0 && room.record.emptySince !== null) {
        room.record.emptySince = null;
        this.#deps.store.setEmptySince(room.id, null);
      }
    });
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

  #checkLimiter(ip: string): void {
    const left = this.#limiter.lockedFor(ip);
    if (left > 0) {
      throw new TuttiError(
        'TOO_MANY_ATTEMPTS',
        `too many wrong attempts; try again in ${Math.ceil(left / 1000)} s`,
      );
    }
  }
}

function nameTaken(): TuttiError {
  return new TuttiError('ROOM_NAME_TAKEN', 'a room with that name already exists');
}
