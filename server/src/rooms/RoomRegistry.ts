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
import type { RoomRecord, RoomStore } from '../store/RoomStore.ts';
import { RoomAccess } from './access.ts';
import { RoomExtensions } from './extensions.ts';
import type { RegistryHands, RoomFederation } from './federationPort.ts';
import { IdleRooms } from './idle.ts';
import { Lobby } from './Lobby.ts';
import { Memberships } from './memberships.ts';
import type {
  JoinExtras,
  JoinGrant,
  MemberChannel,
  MemberRef,
  Membership,
  RoomDirectory,
  RoomExtension,
} from './ports.ts';
import { Room, type Member } from './Room.ts';
import * as rules from './recordRules.ts';
import { hashOwnerSecret, newOwnerSecret, ownedBy, roomNameKey } from './security.ts';

export interface RegistryDeps {
  config: Config;
  store: RoomStore;
  pool: WorkerPool;
  log: Logger;
  now?: () => number;
}

/** Why a room is deleted; its members are told `room.closed { reason: 'deleted' }` either way. */
type DeletionCause = 'owner' | 'idle' | 'admin';

/**
 * All rooms of this node and who sits where (create/find/update/delete, join/leave, the
 * RoomDirectory); access, lobby and idle clock are pieces of their own; concerns use().
 */
export class RoomRegistry implements RoomDirectory {
  readonly #deps: RegistryDeps;
  readonly #now: () => number;
  readonly #rooms = new Map<string, Room>();
  readonly #memberships = new Memberships();
  readonly #extensions: RoomExtensions;
  readonly #access: RoomAccess;
  readonly #lobby: Lobby;
  readonly #idle: IdleRooms;
  /** The cluster (other nodes' members, cluster-wide seats); none: a node on its own. */
  #federation: RoomFederation | undefined;
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

  /** A concern's contribution (at start-up, before the server listens). */
  use(ext: RoomExtension): void {
    this.#extensions.use(ext);
  }

  /** Joins this node's rooms to the cluster (at start-up, once), lending it a few hands. */
  federate(make: (hands: RegistryHands) => RoomFederation): void {
    this.#federation = make({
      add: (record) => this.#add(record),
      forget: (id) => void this.#rooms.delete(id),
      refreshed: (room) => void this.#refreshed(room),
      lobbyChanged: () => this.#lobby.changed(),
    });
    for (const room of this.#rooms.values()) this.#federation.watch(room);
  }

  // ── Queries ─────────────────────────────────────────────────────────────────────────

  get(id: string): Room | undefined {
    return this.#rooms.get(id);
  }

  /** Throws ROOM_NOT_FOUND. */
  require(id: string): Room {
    const room = this.#rooms.get(id);
    if (!room) throw roomNotFound();
    return room;
  }

  /** Like require(), but a room created on another node a moment ago is loaded from the store. */
  async find(id: string): Promise<Room> {
    return this.#rooms.get(id) ?? (await this.#federation?.find(id)) ?? this.require(id);
  }

  list(): RoomSummary[] {
    return [...this.#rooms.values()]
      .map((r) => this.summaryOf(r))
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  rooms(): Room[] {
    return [...this.#rooms.values()];
  }

  /** Everyone in the room, cluster-wide: its members here and on the other nodes. */
  peersOf(room: Room): PeerInfo[] {
    return [...room.peers(), ...(this.#federation?.remotePeers(room.id) ?? [])];
  }

  /** The room's summary with its cluster-wide count (members here and on other nodes). */
  summaryOf(room: Room): RoomSummary {
    return { ...room.summary(), peers: room.size + (this.#federation?.remoteCount(room.id) ?? 0) };
  }

  // ── RoomDirectory ───────────────────────────────────────────────────────────────────

  membership(channelId: string): Membership | undefined {
    return this.#memberships.membership(channelId);
  }

  requireMembership(channelId: string): Membership {
    const m = this.membership(channelId);
    if (!m) throw new TuttiError('NOT_JOINED', 'join a room first');
    return m;
  }

  member(roomId: string, peerId: string): MemberRef | undefined {
    const info = this.#rooms.get(roomId)?.member(peerId)?.info;
    if (!info) return this.#federation?.remoteMember(roomId, peerId); // On another node.
    return { id: info.id, nickname: info.nickname };
  }

  /** A member of the room on another node of the cluster, and that node. */
  remoteHost(roomId: string, peerId: string): { nodeId: string; peer: PeerInfo } | undefined {
    return this.#federation?.remoteHost(roomId, peerId);
  }

  *members(roomId: string): Iterable<MemberChannel> {
    const room = this.#rooms.get(roomId);
    if (room) for (const m of room.members()) yield m.channel;
  }

  /** The room and member behind a connection; throws NOT_JOINED. */
  requireMember(channel: MemberChannel): { room: Room; member: Member } {
    return this.#memberships.requireMember(channel.id);
  }

  // ── Create / update / delete ────────────────────────────────────────────────────────

  /** `ip`: the client address, capped at signaling.roomCreatesPerMinute (RATE_LIMITED). */
  async create(
    args: RequestMap['room.create'],
    ip: string,
    ownerAccountId: string | null = null,
  ): Promise<{ room: RoomSummary; ownerSecret: string }> {
    this.#access.takeCreate(ip);
    rules.checkCapacity(this.#deps.config, args.capacity);
    const nameKey = roomNameKey(args.name);
    rules.checkNameFree(this.#rooms.values(), nameKey);
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
      ...ownedBy(ownerAccountId), // The signed-in creator's account owns it (server/src/moderation).
      e2ee: args.e2ee ?? false,
    };
    rules.checkNameFree(this.#rooms.values(), nameKey); // Again: the hash awaited.
    await rules.persist(() => this.#deps.store.insert(record)); // Unique there too: NAME_TAKEN.
    const room = this.#add(record);
    this.#lobby.changed();
    this.#federation?.recordChanged(record.id);
    this.#deps.log.info({ roomId: record.id }, 'room created');
    return { room: this.summaryOf(room), ownerSecret };
  }

  async update(
    id: string,
    ownerSecret: string,
    ip: string,
    changes: rules.RoomChanges,
  ): Promise<RoomSummary> {
    const room = this.#requireOwned(id, ownerSecret, ip);
    rules.checkCapacity(this.#deps.config, changes.capacity ?? undefined);
    const next = await rules.changedRecord(room.record, changes, this.#rooms.values(), (password) =>
      this.#access.hashPassword(password, ip),
    );
    this.#requireOpen(room);
    await rules.persist(() => this.#deps.store.update(next));
    this.#requireOpen(room);
    room.replaceRecord(next);
    this.#federation?.recordChanged(id);
    return this.#refreshed(room);
  }

  #refreshed(room: Room): RoomSummary {
    const summary = this.summaryOf(room);
    room.broadcast('room.updated', { room: summary });
    this.#lobby.changed();
    return summary;
  }

  /** Owner deletion. A requester who is a member is removed, its socket left to the caller. */
  async delete(
    id: string,
    ownerSecret: string,
    ip: string,
    requester?: MemberChannel,
  ): Promise<void> {
    const room = this.#requireOwned(id, ownerSecret, ip);
    await this.#delete(room, 'owner', requester?.id);
  }

  /** Deletion without the owner secret: the admin API (authenticated by an API key). */
  deleteByAdmin = async (id: string): Promise<void> => this.#delete(await this.find(id), 'admin');

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
    this.#federation?.recordDeleted(room.id);
    this.#deps.log.info({ roomId: room.id, cause }, 'room deleted');
    await room.close('deleted', keepSocketOf);
    await this.#extensions.roomDeleted(room.id);
  }

  // ── Join / leave ────────────────────────────────────────────────────────────────────

  /** Password (RoomAccess), router, admission (capacity, nickname), extras in that tick. */
  async join(
    channel: MemberChannel,
    roomId: string,
    { nickname, role }: JoinGrant,
    password: string | undefined,
  ): Promise<Omit<JoinResult, keyof IceSettings>> {
    this.#memberships.checkNotJoined(channel.id);
    const room = await this.find(roomId);
    const done = room.beginJoin();
    let admitted: { self: PeerInfo; router: Router; extras: Promise<JoinExtras> };
    let seated = false; // A cluster seat to give back if the admission fails after all.
    try {
      await this.#federation?.current(room);
      await this.#access.checkPassword(room.id, room.record.passwordHash, password, channel.ip);
      const router = await room.media.routerFor(channel.id);
      const claim = await this.#federation?.admitting(room, channel.id, nickname);
      seated = claim !== undefined;
      if (channel.closed) throw new TuttiError('NOT_JOINED', 'connection closed');
      this.#memberships.checkNotJoined(channel.id);
      this.#requireOpen(room);
      const self = room.admit(channel, claim?.nickname ?? nickname, role, claim?.takenElsewhere);
      seated = false;
      admitted = { self, router, extras: this.#extensions.joinAnswer(room.id, channel) };
    } finally {
      if (seated) this.#federation?.notAdmitted(room.id, channel.id);
      done();
    }
    const { self, router } = admitted;
    return {
      self,
      peers: this.peersOf(room).filter((p) => p.id !== self.id),
      room: this.summaryOf(room),
      routerRtpCapabilities: router.rtpCapabilities,
      history: [], // the chat's page replaces it (extras: history, game, hands)
      ...(await admitted.extras),
    };
  }

  leave(channel: MemberChannel): void {
    this.#memberships.roomOf(channel.id)?.remove(channel.id);
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
        if (await this.#federation?.hostedElsewhere(room.id)) continue; // Members elsewhere.
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

  /** Shutdown: members told and disconnected, rooms kept (closed synchronously; idempotent). */
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
    room.on('joined', (member) => {
      this.#memberships.joined(member.id, room);
      this.#extensions.memberJoined(room.id, { ...member.info }, room.size === 1);
    });
    room.on('left', (member) => {
      this.#memberships.left(member.id, room);
      this.#extensions.memberLeft(room.id, member.id, room.size === 0);
    });
    // Resumed on another node / from another node: no join, no leave (federation/handover).
    room.on('seated', (member) => {
      this.#memberships.joined(member.id, room);
      this.#extensions.memberArrived(room.id, member.channel);
    });
    room.on('handedOff', (member) => {
      this.#memberships.left(member.id, room);
      this.#extensions.memberDeparted(room.id, member.id, room.size === 0);
    });
    room.on('changed', () => this.#lobby.changed());
    this.#idle.watch(room);
    this.#federation?.watch(room);
    return room;
  }

  /** The room, if `ownerSecret` is its owner's (ROOM_NOT_FOUND, FORBIDDEN; wrong ones are logged). */
  #requireOwned(id: string, ownerSecret: string, ip: string): Room {
    const room = this.require(id);
    this.#access.checkOwnerOf(room, ownerSecret, ip, this.#deps.log);
    return room;
  }

  /** ROOM_NOT_FOUND if the room was closed or deleted meanwhile (during an await). */
  #requireOpen(room: Room): void {
    if (room.closed || this.#rooms.get(room.id) !== room) throw roomNotFound();
  }
}

const roomNotFound = (): TuttiError => new TuttiError('ROOM_NOT_FOUND', 'room not found');
