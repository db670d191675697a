import { TuttiError, type PeerInfo } from '@tutti/protocol';
import type { Cluster } from '../cluster/index.ts';
import type { Logger } from '../kernel/log.ts';
import type { RegistryHands, RoomFederation } from '../rooms/federationPort.ts';
import type { MemberRef } from '../rooms/ports.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { RemoteMembers, type GoneMember } from '../rooms/remoteMembers.ts';
import type { RoomStore } from '../store/RoomStore.ts';
import type { ClusterMethods } from './methods.ts';
import type { PresenceBus } from './presenceBus.ts';
import type { PresenceMessage } from './presenceEvents.ts';
import { MemberMoves } from './memberMoves.ts';
import { NicknameHolds } from './nicknameHolds.ts';
import type { NicknameClaims } from './nicknames.ts';
import { SeatReleases } from './seatReleases.ts';
import { SharedRecords } from './sharedRecords.ts';
import { bounded, clusterCall } from './timeout.ts';

/** How often the counts are checked against the placement (a missed event heals by then). */
const RECONCILE_MS = 5000;
/** After Redis comes back, each node's snapshot is asked for this often before giving up. */
const RESYNC_TRIES = 4;

export interface PresenceDeps {
  cluster: Cluster<ClusterMethods>;
  bus: PresenceBus;
  nicknames: NicknameClaims;
  rooms: RoomRegistry;
  hands: RegistryHands;
  store: RoomStore;
  log: Logger;
  /** Placement and snapshot calls give up after this (cluster.rpcTimeoutMs). */
  timeoutMs: number;
}

/**
 * A room's members across the cluster. Local members are announced on the bus (joined,
 * updated, left) and hold a seat in the cluster-wide placement; other nodes' members are
 * kept in RemoteMembers and shown to the local ones as room.peerJoined/peerUpdated/peerLeft.
 * Records are shared through the store: the bus only says which one changed. A node that
 * may have missed events (start, first local member of a room, Redis back) asks the others
 * for a snapshot; a node that died takes its members with it (nodeLeft / nodeRestarted).
 */
export class Presence implements RoomFederation {
  readonly #d: PresenceDeps;
  readonly #nodeId: string;
  readonly #remote = new RemoteMembers();
  readonly #releases: SeatReleases;
  readonly #records: SharedRecords;
  #reconciler: NodeJS.Timeout | undefined;
  #reconciling = false;
  /** Nicknames claimed for joins not admitted yet: member → [room, nickname]. */
  readonly #claimed = new Map<string, [string, string]>();
  readonly #names: NicknameHolds;
  readonly #onRemoteChange = new Set<(roomId: string) => void>();
  /** Members going over to or coming from other nodes (resumed there or here). */
  readonly moves: MemberMoves;

  constructor(deps: PresenceDeps) {
    this.#d = deps;
    this.#nodeId = deps.cluster.nodeId;
    this.#releases = new SeatReleases(deps.cluster.placement, deps.log, deps.timeoutMs);
    this.#names = new NicknameHolds(deps.nicknames, deps.cluster.nodeId, deps.log, deps.timeoutMs);
    this.#records = new SharedRecords(deps);
    this.moves = new MemberMoves({
      ...deps,
      nodeId: this.#nodeId,
      placement: deps.cluster.placement,
      remote: this.#remote,
      releases: this.#releases,
      names: this.#names,
      tellLeft: (gone) => this.#tellLeft(gone),
      changed: (roomId) => this.#changed(roomId),
    });
    deps.bus.subscribe((m) => this.#onMessage(m));
    deps.bus.onRecovered(() => void this.resync(RESYNC_TRIES));
    const { registry, rpc } = deps.cluster;
    registry.on('nodeLeft', async (nodeId) => {
      this.#nodeGone(nodeId);
      await deps.nicknames.releaseNode(nodeId);
    });
    registry.on('nodeRestarted', (info) => this.#nodeGone(info.nodeId, info.startedAt));
    registry.on('selfReinstated', () => void this.#reinstate());
    rpc.handle('presence.snapshot', ({ roomId }) => ({ rooms: this.#snapshot(roomId) }));
  }

  /** After the cluster started: learn who is where from every other live node. */
  async start(): Promise<void> {
    // Names under this id belong to a previous process that crashed: nobody is here yet.
    await bounded(this.#d.nicknames.releaseNode(this.#nodeId), this.#d.timeoutMs).catch(
      (err: unknown) => this.#d.log.warn({ err }, 'presence: old nicknames not cleared'),
    );
    await this.resync();
    this.#reconciler = setInterval(() => void this.reconcile(), RECONCILE_MS);
    this.#reconciler.unref();
  }

  close(): void {
    clearInterval(this.#reconciler);
    this.#releases.close();
  }

  /**
   * The placement's counts are the truth about seats: a room whose count here (members here
   * plus those heard of) differs from it missed an event, and is caught up from its hosts.
   */
  async reconcile(): Promise<void> {
    if (this.#reconciling) return; // A slow round (Redis timing out) never stacks up.
    this.#reconciling = true;
    try {
      const seats = await bounded(this.#d.cluster.placement.rooms(), this.#d.timeoutMs);
      const counted = new Map(seats.map((r) => [r.roomId, r.count]));
      for (const room of this.#d.rooms.rooms()) {
        // Joins in flight may hold a seat already: a mismatch then costs one needless snapshot.
        const here = room.size + this.#remote.count(room.id);
        const there = counted.get(room.id) ?? 0;
        if (here !== there && room.pendingJoins === 0) await this.#catchUp(room.id);
      }
    } catch (err) {
      this.#d.log.debug({ err }, 'presence: reconcile skipped');
    } finally {
      this.#reconciling = false;
    }
  }

  // ── RoomFederation ──────────────────────────────────────────────────────────────────

  watch(room: Room): void {
    const roomId = room.id;
    room.on('joined', (m) => {
      this.#claimed.delete(m.id);
      this.#d.bus.publish({ type: 'member.joined', roomId, peer: m.info });
    });
    room.on('updated', (peer) => this.#d.bus.publish({ type: 'member.updated', roomId, peer }));
    room.on('seated', (m) => this.moves.seated(roomId, m.info));
    room.on('left', (m) => {
      this.#d.bus.publish({ type: 'member.left', roomId, peerId: m.id });
      this.#releases.release(roomId, m.id);
      this.#names.release(roomId, m.id, m.info.nickname);
    });
  }

  find(roomId: string): Promise<Room | undefined> {
    return this.#records.find(roomId);
  }

  current(room: Room): Promise<void> {
    return this.#records.current(room);
  }

  async admitting(
    room: Room,
    memberId: string,
    nickname: string,
  ): Promise<{ nickname: string; takenElsewhere: readonly string[] }> {
    const { placement } = this.#d.cluster;
    const seat = await this.#bounded(
      placement.reserve(room.id, memberId, this.#nodeId, room.capacity),
      'the cluster could not seat you',
    );
    if (!seat.ok) {
      throw new TuttiError('ROOM_FULL', `room is full (${room.capacity} people)`);
    }
    try {
      try {
        // The first member here: what this node heard of the room may be stale; ask its hosts.
        if (room.size === 0) await this.#catchUp(room.id);
      } catch (err) {
        this.#d.log.warn({ err, roomId: room.id }, 'presence: snapshot failed; joining anyway');
      }
      const takenElsewhere = this.#remote.peers(room.id).map((p) => p.nickname);
      const taken = [...takenElsewhere, ...room.peers().map((p) => p.nickname)];
      const name = await this.#names.claim(room.id, memberId, nickname, taken);
      this.#claimed.set(memberId, [room.id, name]);
      return { nickname: name, takenElsewhere };
    } catch (err) {
      this.#releases.release(room.id, memberId);
      throw err;
    }
  }

  notAdmitted(roomId: string, memberId: string): void {
    this.#releases.release(roomId, memberId);
    const claimed = this.#claimed.get(memberId);
    this.#claimed.delete(memberId);
    if (claimed) this.#names.release(claimed[0], memberId, claimed[1]);
  }

  remotePeers(roomId: string): PeerInfo[] {
    return this.#remote.peers(roomId);
  }

  remoteCount(roomId: string): number {
    return this.#remote.count(roomId);
  }

  remoteMember(roomId: string, peerId: string): MemberRef | undefined {
    const peer = this.#remote.get(roomId, peerId);
    return peer && { id: peer.id, nickname: peer.nickname };
  }

  remoteHost(roomId: string, peerId: string): { nodeId: string; peer: PeerInfo } | undefined {
    return this.#remote.find(roomId, peerId);
  }

  /** `fn` hears of every change to a room's members on other nodes (room life follows them). */
  onRemoteChange(fn: (roomId: string) => void): void {
    this.#onRemoteChange.add(fn);
  }

  recordChanged(roomId: string): void {
    this.#d.bus.publish({ type: 'room.changed', roomId });
  }

  recordDeleted(roomId: string): void {
    this.#remote.removeRoom(roomId);
    this.#d.bus.publish({ type: 'room.deleted', roomId });
  }

  async hostedElsewhere(roomId: string): Promise<boolean> {
    try {
      const spread = await this.#bounded(this.#d.cluster.placement.spread(roomId), 'spread');
      return Object.keys(spread.nodes).some((n) => n !== this.#nodeId);
    } catch {
      return true; // Unsure: keep the room; the next sweep asks again.
    }
  }

  // ── Catching up ─────────────────────────────────────────────────────────────────────

  /**
   * Replaces what this node knows of every other node's members with their snapshots. Just
   * after Redis comes back the other node may not have renewed its subscription yet ("not
   * listening"): a failed snapshot is asked again, `tries` times in all (0.5 s, 1 s… apart).
   */
  async resync(tries = 1): Promise<void> {
    const others = this.#d.cluster.registry.nodes().filter((n) => n.nodeId !== this.#nodeId);
    await Promise.all(
      others.map(async ({ nodeId }) => {
        for (let left = tries - 1; !(await this.#fetch(nodeId, undefined, left)); left--) {
          await new Promise((r) => setTimeout(r, 500 * 2 ** (tries - 1 - left)).unref());
          if (!this.#d.cluster.registry.get(nodeId)) return; // Gone meanwhile.
        }
      }),
    );
  }

  async #catchUp(roomId: string): Promise<void> {
    const spread = await this.#bounded(this.#d.cluster.placement.spread(roomId), 'spread');
    const hosts = Object.keys(spread.nodes).filter((n) => n !== this.#nodeId);
    // Nodes we still list members for but that hold no seat any more: they are gone.
    for (const nodeId of this.#remote.nodesOf(roomId)) {
      if (!hosts.includes(nodeId)) this.#applySnapshot(roomId, nodeId, []);
    }
    // Only live nodes are asked: a seat of a node the registry does not list (gone, or not a
    // node at all) must not hold a join up for the RPC timeout.
    const live = hosts.filter((nodeId) => this.#d.cluster.registry.get(nodeId) !== undefined);
    await Promise.all(live.map((nodeId) => this.#fetch(nodeId, roomId)));
  }

  /**
   * One node's members (of one room, or of all when `roomId` is absent), applied here.
   * Resolves false when it failed and is to be tried again (`triesLeft` > 0).
   */
  async #fetch(nodeId: string, roomId?: string, triesLeft = 0): Promise<boolean> {
    try {
      const answer = await this.#d.cluster.rpc.request(
        nodeId,
        'presence.snapshot',
        roomId === undefined ? {} : { roomId },
        { timeoutMs: this.#d.timeoutMs },
      );
      const seen = new Set<string>();
      for (const { roomId: id, peers } of answer.rooms) {
        seen.add(id);
        this.#applySnapshot(id, nodeId, peers);
      }
      if (roomId !== undefined && !seen.has(roomId)) this.#applySnapshot(roomId, nodeId, []);
      return true;
    } catch (err) {
      if (triesLeft > 0) return false;
      this.#d.log.warn({ err, nodeId, roomId }, 'presence: no snapshot from a node');
      return true;
    }
  }

  #applySnapshot(roomId: string, nodeId: string, peers: readonly PeerInfo[]): void {
    const { joined, left } = this.#remote.replace(roomId, nodeId, peers);
    const room = this.#d.rooms.get(roomId);
    for (const peer of joined) room?.broadcast('room.peerJoined', { peer });
    this.#tellLeft(left);
    if (joined.length + left.length > 0) this.#changed(roomId);
  }

  #snapshot(roomId: string | undefined): { roomId: string; peers: PeerInfo[] }[] {
    const rooms = roomId === undefined ? this.#d.rooms.rooms() : [this.#d.rooms.get(roomId)];
    return rooms.flatMap((r) => (r && r.size > 0 ? [{ roomId: r.id, peers: r.peers() }] : []));
  }

  // ── Events from other nodes ─────────────────────────────────────────────────────────

  #onMessage({ from, event }: PresenceMessage): void {
    const room = this.#d.rooms.get(event.roomId);
    switch (event.type) {
      case 'member.joined':
      case 'member.updated': {
        if (room?.hasMember(event.peer.id)) return; // Ours (it moved here): not a stranger.
        const isNew = this.#remote.put(event.roomId, from, event.peer);
        const method = isNew ? 'room.peerJoined' : 'room.peerUpdated';
        room?.broadcast(method, { peer: event.peer });
        if (isNew) this.#changed(event.roomId);
        return;
      }
      case 'member.left': {
        const peer = this.#remote.remove(event.roomId, event.peerId);
        if (!peer) return;
        this.#tellLeft([{ roomId: event.roomId, peerId: peer.id, nickname: peer.nickname }]);
        this.#changed(event.roomId);
        return;
      }
      case 'room.changed':
        void this.#records.reload(event.roomId);
        return;
      case 'room.deleted':
        this.#remote.removeRoom(event.roomId);
        void this.#records.dropped(event.roomId);
        return;
      case 'moderation.changed':
        return; // Moderation's (federation/moderationRelay.ts).
    }
  }

  // ── Nodes coming and going ──────────────────────────────────────────────────────────

  /** A node left or restarted: its members (those from before `startedAt`) are gone. */
  #nodeGone(nodeId: string, startedAt?: number): void {
    const gone = this.#remote.removeNode(nodeId, startedAt);
    this.#tellLeft(gone);
    for (const roomId of new Set(gone.map((g) => g.roomId))) this.#changed(roomId);
    if (gone.length > 0) {
      this.#d.log.info({ nodeId, members: gone.length }, 'presence: a gone node’s members left');
    }
  }

  /** Our registry entry had been reaped: seats and announcements again, for every member. */
  async #reinstate(): Promise<void> {
    const { placement } = this.#d.cluster;
    for (const room of this.#d.rooms.rooms()) {
      for (const peer of room.peers()) {
        // Past capacity if need be: these members are inside already.
        await placement
          .reserve(room.id, peer.id, this.#nodeId, Number.MAX_SAFE_INTEGER)
          .catch((err: unknown) => this.#d.log.warn({ err }, 'presence: seat not re-reserved'));
        await this.#d.nicknames
          .claim(room.id, this.#nodeId, peer.id, [peer.nickname])
          .catch((err: unknown) => this.#d.log.warn({ err }, 'presence: nickname not re-claimed'));
        this.#d.bus.publish({ type: 'member.joined', roomId: room.id, peer });
      }
    }
  }

  /**
   * Other nodes' members of a room changed: the lobby refreshes, and a room with nobody on
   * this node keeps its idle clock by the cluster's count (so that the last member leaving
   * elsewhere starts it here too, and a sweep here never deletes a room in use elsewhere).
   */
  #changed(roomId: string): void {
    this.#d.hands.lobbyChanged();
    for (const fn of this.#onRemoteChange) {
      try {
        fn(roomId);
      } catch (err) {
        this.#d.log.error({ err, roomId }, 'presence: a change listener failed');
      }
    }
    const room = this.#d.rooms.get(roomId);
    if (!room || room.size > 0) return;
    const busy = this.#remote.count(roomId) > 0;
    if (busy) room.setEmptySince(null);
    else if (room.record.emptySince === null) room.setEmptySince(Date.now());
  }

  #tellLeft(gone: readonly GoneMember[]): void {
    for (const g of gone) {
      this.#d.rooms.get(g.roomId)?.broadcast('room.peerLeft', {
        peerId: g.peerId,
        nickname: g.nickname,
      });
    }
  }

  /** A placement call within the timeout; failing or late → MEDIA_UNAVAILABLE (503). */
  #bounded<T>(work: Promise<T>, what: string): Promise<T> {
    return clusterCall(work, this.#d.timeoutMs, this.#d.log, what);
  }
}
