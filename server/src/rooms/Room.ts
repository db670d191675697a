import { EventEmitter } from 'node:events';
import type { Producer } from 'mediasoup/types';
import type { Config } from '@tutti/config';
import type { WorkerPool } from '@tutti/media-workers';
import {
  TuttiError,
  type NotificationMap,
  type NotificationMethod,
  type PeerInfo,
  type Role,
  type RoomSummary,
} from '@tutti/protocol';
import { lazyChild } from '../kernel/lazyLog.ts';
import type { Logger } from '../kernel/log.ts';
import type { RoomRecord } from '../store/RoomStore.ts';
import { NO_MEDIA, type MediaPresence, type ProducerAppData } from './mediaTypes.ts';
import { MemberMedia } from './MemberMedia.ts';
import { prepareNotification, type MemberChannel, type PreparedNotification } from './ports.ts';
import { RemoteProducers } from './remoteProducers.ts';
import { RoomMedia, type RoomMediaHost } from './RoomMedia.ts';
import { dedupNickname } from './security.ts';

export interface RoomDeps {
  config: Config;
  pool: WorkerPool;
  log: Logger;
}

/** One member of a room: how to reach it, what the others see of it, its media. */
export interface Member {
  readonly id: string;
  readonly channel: MemberChannel;
  /** Nickname, joinedAt and the presence derived from its producers. */
  readonly info: PeerInfo;
  readonly media: MemberMedia;
}

export interface RoomEvents {
  /** Membership or metadata changed (the lobby list needs a refresh). */
  changed: [];
  /** The last member left. */
  empty: [];
  joined: [member: Member];
  /** A member left (leave, disconnect, kick, room closing). */
  left: [member: Member];
  /** A member came over from another node of the cluster (a resume there): no join. */
  seated: [member: Member];
  /** A member went over to another node (it resumed there): no leave. */
  handedOff: [member: Member];
  /**
   * A member's new producer, once the others are consuming it (captions listen for mics,
   * recording for every track;
   * other nodes hosting the room pipe it: federation/).
   */
  produced: [producer: Producer<ProducerAppData>];
  /** A member's presence (mic, camera, screen) or role changed. */
  updated: [peer: PeerInfo];
}

/**
 * The mediator of one conference: membership and its rules (capacity, nicknames), what the
 * members see of each other, broadcasts, and the persisted row. Media is delegated: the
 * room's router(s) to RoomMedia, each member's transports/producers/consumers to its
 * MemberMedia. Members are reached only through their MemberChannel.
 */
export class Room extends EventEmitter<RoomEvents> implements RoomMediaHost {
  #record: RoomRecord;
  readonly media: RoomMedia;
  /** Producers of members on other nodes, consumed like the local members' ones. */
  readonly remote: RemoteProducers;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #members = new Map<string, Member>();
  /** Joins between password check and admission; keeps the router from being closed under them. */
  #pendingJoins = 0;
  #closed = false;

  constructor(record: RoomRecord, deps: RoomDeps) {
    super();
    this.#record = record;
    this.#config = deps.config;
    this.#log = deps.log.child({ roomId: record.id });
    this.media = new RoomMedia({
      host: this,
      pool: deps.pool,
      roomId: record.id,
      log: this.#log,
      maxConsumersPerRouter: deps.config.media.maxConsumersPerRouter,
    });
    this.remote = new RemoteProducers((p) => {
      for (const m of this.#members.values()) m.media.consume(p);
    });
  }

  // ── The persisted row ───────────────────────────────────────────────────────────────

  get record(): Readonly<RoomRecord> {
    return this.#record;
  }

  /** After the store accepted `next` (rename, password, capacity). */
  replaceRecord(next: RoomRecord): void {
    this.#record = { ...next };
  }

  /** The idle clock: when the room became empty, null while someone is inside. */
  setEmptySince(at: number | null): void {
    this.#record.emptySince = at;
  }

  // ── Queries ─────────────────────────────────────────────────────────────────────────

  get id(): string {
    return this.#record.id;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get size(): number {
    return this.#members.size;
  }

  get pendingJoins(): number {
    return this.#pendingJoins;
  }

  /** Effective capacity: the room's own, bounded by config.rooms.maxCapacity. */
  get capacity(): number {
    return Math.min(this.#record.capacity ?? Infinity, this.#config.rooms.maxCapacity);
  }

  summary(): RoomSummary {
    return {
      id: this.#record.id,
      name: this.#record.name,
      peers: this.#members.size,
      capacity: this.#record.capacity,
      locked: this.#record.passwordHash !== null,
      e2ee: this.#record.e2ee,
      createdAt: this.#record.createdAt,
    };
  }

  peers(): PeerInfo[] {
    return [...this.#members.values()].map((m) => ({ ...m.info }));
  }

  hasMember(memberId: string): boolean {
    return this.#members.has(memberId);
  }

  member(memberId: string): Member | undefined {
    return this.#members.get(memberId);
  }

  members(): Iterable<Member> {
    return this.#members.values();
  }

  broadcast<M extends NotificationMethod>(
    method: M,
    data: NotificationMap[M],
    exceptMemberId?: string,
  ): void {
    // Serialized once for every recipient.
    let prepared: PreparedNotification<M> | undefined;
    for (const m of this.#members.values()) {
      if (m.id === exceptMemberId) continue;
      prepared ??= prepareNotification(method, data);
      void m.channel.notifyPrepared(prepared);
    }
  }

  // ── Membership ──────────────────────────────────────────────────────────────────────

  /** A join is under way (password check, router): returns its end, to call once. */
  beginJoin(): () => void {
    this.#pendingJoins++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#pendingJoins--;
      if (this.#pendingJoins > 0) return;
      if (this.#members.size === 0) this.media.close();
      else this.media.forgetStrangers(); // Joins that failed after being placed on a router.
    };
  }

  /**
   * Capacity check + nickname de-dup (also against `takenElsewhere`: other nodes' members) +
   * insertion, synchronously (concurrent joins can't overshoot).
   */
  admit(
    channel: MemberChannel,
    nickname: string,
    role: Role = 'participant',
    takenElsewhere: readonly string[] = [],
  ): PeerInfo {
    if (this.#closed) throw new TuttiError('ROOM_NOT_FOUND', 'room not found');
    if (this.#members.size >= this.capacity) {
      throw new TuttiError('ROOM_FULL', `room is full (${this.capacity} people)`);
    }
    const name = dedupNickname(nickname, [
      ...[...this.#members.values()].map((m) => m.info.nickname),
      ...takenElsewhere,
    ]);
    const info: PeerInfo = {
      id: channel.id,
      nickname: name,
      ...NO_MEDIA,
      joinedAt: Date.now(),
      role,
    };
    const member = this.#newMember(channel, info);
    this.#members.set(member.id, member);
    this.broadcast('room.peerJoined', { peer: { ...info } }, member.id);
    this.emit('joined', member);
    this.emit('changed');
    return { ...info };
  }

  /**
   * A member another node handed over (it resumed here): in with the same id, nickname and
   * role, no media yet (its client rebuilds it), and nothing told to the others, for whom it
   * never left. Its cluster seat and nickname moved here before (federation/handover.ts).
   */
  seat(channel: MemberChannel, peer: PeerInfo): PeerInfo {
    if (this.#closed) throw new TuttiError('ROOM_NOT_FOUND', 'room not found');
    if (this.#members.has(channel.id)) throw new TuttiError('ALREADY_JOINED', 'already here');
    const info: PeerInfo = { ...peer, ...NO_MEDIA, id: channel.id };
    const member = this.#newMember(channel, info);
    this.#members.set(member.id, member);
    // Not a join: the others only see its media gone until it publishes again here.
    this.broadcast('room.peerUpdated', { peer: { ...info } }, member.id);
    this.emit('seated', member);
    this.emit('changed');
    return { ...info };
  }

  /**
   * The member goes over to another node (it resumed there): out of this node with its
   * media (the others' consumers of it close), without a leave for anyone.
   */
  handOff(memberId: string): Member | undefined {
    const member = this.#members.get(memberId);
    if (!member) return undefined;
    this.#members.delete(memberId);
    member.media.close();
    this.media.memberLeft(memberId);
    this.emit('handedOff', member);
    if (this.#members.size === 0) {
      if (this.#pendingJoins === 0) this.media.close();
      this.emit('empty');
    }
    this.emit('changed');
    return member;
  }

  #newMember(channel: MemberChannel, info: PeerInfo): Member {
    const id = channel.id;
    const media = new MemberMedia({
      id,
      channel,
      config: this.#config,
      log: lazyChild(this.#log, { peerId: id }),
      room: this.media,
      host: {
        othersProducers: () => this.#producersExcept(id),
        share: (producer) => {
          this.emit('produced', producer);
          for (const other of this.#members.values()) {
            if (other.id !== id) other.media.consume(producer);
          }
        },
        presenceChanged: (presence) => {
          if (this.#members.get(id)?.media === media) this.#setPresence(info, presence);
        },
      },
    });
    return { id, channel, info, media };
  }

  *#producersExcept(memberId: string): Iterable<Producer<ProducerAppData>> {
    for (const other of this.#members.values()) {
      if (other.id !== memberId) yield* other.media.producers();
    }
    yield* this.remote.producers();
  }

  #setPresence(info: PeerInfo, next: MediaPresence): void {
    if (info.mic === next.mic && info.camera === next.camera && info.screen === next.screen) return;
    Object.assign(info, next);
    this.broadcast('room.peerUpdated', { peer: { ...info } });
    this.emit('updated', { ...info });
  }

  /** A moderator changed someone's role (server/src/moderation): everyone sees it. */
  setRole(memberId: string, role: Role): void {
    const info = this.#members.get(memberId)?.info;
    if (!info || info.role === role) return;
    info.role = role;
    this.broadcast('room.peerUpdated', { peer: { ...info } });
    this.emit('updated', { ...info }); // Other nodes see it too (federation/presence).
  }

  /** RoomMediaHost: these members' router died with its worker; their media starts from scratch. */
  mediaLost(memberIds: readonly string[]): void {
    for (const id of memberIds) {
      const m = this.#members.get(id);
      if (!m) continue;
      m.media.reset();
      this.#setPresence(m.info, NO_MEDIA);
    }
  }

  /** RoomMediaHost: notifies some members (serialized once). */
  tell<M extends NotificationMethod>(
    memberIds: readonly string[],
    method: M,
    data: NotificationMap[M],
  ): void {
    let prepared: PreparedNotification<M> | undefined;
    for (const id of memberIds) {
      const m = this.#members.get(id);
      if (!m) continue;
      prepared ??= prepareNotification(method, data);
      void m.channel.notifyPrepared(prepared);
    }
  }

  /** RoomMediaHost: every open mic of the members. */
  *mics(): Iterable<Producer<ProducerAppData>> {
    for (const m of this.#members.values()) {
      for (const p of m.media.producers()) if (p.appData.source === 'mic' && !p.closed) yield p;
    }
    for (const p of this.remote.producers()) if (p.appData.source === 'mic' && !p.closed) yield p;
  }

  /** Removes a member (leave, disconnect, kick). Idempotent. */
  remove(memberId: string): boolean {
    const member = this.#members.get(memberId);
    if (!member) return false;
    this.#members.delete(memberId);
    // Closing transports closes the member's producers, whose consumers then close
    // (and the other members get media.consumerClosed).
    member.media.close();
    this.media.memberLeft(memberId);
    this.broadcast('room.peerLeft', { peerId: memberId, nickname: member.info.nickname });
    this.emit('left', member);
    if (this.#members.size === 0) {
      if (this.#pendingJoins === 0) this.media.close();
      this.emit('empty');
    }
    this.emit('changed');
    return true;
  }

  /**
   * Tells every member the room is gone, then disconnects them (except `keepSocketOf`).
   * Resolves once the notifications were flushed (bounded wait).
   */
  async close(reason: 'deleted' | 'shutdown', keepSocketOf?: string): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const members = [...this.#members.values()];
    const sent = members.map((m) => m.channel.notify('room.closed', { reason }));
    await Promise.race([Promise.allSettled(sent), sleep(1000)]);
    for (const m of members) {
      this.remove(m.id);
      // The caller disconnects `keepSocketOf` itself, after answering its request.
      if (m.id !== keepSocketOf) m.channel.close();
    }
    this.media.close();
    this.removeAllListeners();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
