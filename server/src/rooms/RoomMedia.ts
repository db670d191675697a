import type { Producer, Router } from 'mediasoup/types';
import { mediaCodecs, type WorkerPool } from '@tutti/media-workers';
import { TuttiError, type NotificationMap, type NotificationMethod } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { ProducerAppData } from './mediaTypes.ts';
import { ProducerPipes, type Reached } from './pipes.ts';
import { SpeakerObservers } from './speaker.ts';

/** What the room's media needs to know of the room (the Room implements it). */
export interface RoomMediaHost {
  readonly closed: boolean;
  /** Members inside (joins still in progress not counted). */
  readonly size: number;
  /** Joins between the password check and admission: their router must not close under them. */
  readonly pendingJoins: number;
  hasMember(memberId: string): boolean;
  broadcast<M extends NotificationMethod>(method: M, data: NotificationMap[M]): void;
  /** Notifies these members only (the ones not inside any more are skipped). */
  tell<M extends NotificationMethod>(
    memberIds: readonly string[],
    method: M,
    data: NotificationMap[M],
  ): void;
  /** Every open mic of the members (the speaker observers moved: they listen again). */
  mics(): Iterable<Producer<ProducerAppData>>;
  /** These members' router died with every transport on it: they start media from scratch. */
  mediaLost(memberIds: readonly string[]): void;
}

/** One router of the room, on one worker. */
interface Slot {
  readonly router: Router;
  readonly workerPid: number;
  /** Consumers on its WebRTC transports (what maxConsumersPerRouter bounds). */
  consumers: number;
}

export interface RoomMediaOptions {
  host: RoomMediaHost;
  pool: WorkerPool;
  roomId: string;
  log: Logger;
  /** A router carrying this many consumers takes no newcomers while another can be made. */
  maxConsumersPerRouter: number;
}

/** What tests and operators see of a room's routers. */
export interface RouterInfo {
  routerId: string;
  workerPid: number;
  consumers: number;
  /** What placement compares with maxConsumersPerRouter (see #load). */
  load: number;
  members: string[];
  observers: boolean;
}

/**
 * The media side of one room: its routers, the speaker and level observers, and moving the
 * members of a router whose worker died. Routers exist only while someone is inside. The room
 * starts on one router; when every router carries `maxConsumersPerRouter` consumers (counting
 * the ones its members will have: see #load), newcomers go to a new router on a worker the
 * room is not on yet (least loaded; on the same worker only if the pool has a single worker),
 * else to the least loaded router.
 * Producers reach other routers through ProducerPipes, on demand. Members reach a router only
 * through routerFor() / currentRouterFor(); a member stays on its router until it leaves or
 * that router's worker dies.
 */
export class RoomMedia {
  readonly #host: RoomMediaHost;
  readonly #pool: WorkerPool;
  readonly #roomId: string;
  readonly #log: Logger;
  readonly #maxConsumers: number;
  readonly #pipes = new ProducerPipes();
  #slots: Slot[] = [];
  readonly #placement = new Map<string, Slot>();
  /** The router each producer of a member was made on. */
  readonly #origin = new Map<string, Slot>();
  /** Open producers per member (what a member on a router is expected to consume is the rest). */
  readonly #producersOf = new Map<string, number>();
  #creating: Promise<Slot> | undefined;
  #observers: SpeakerObservers | undefined;
  #observersStarting: Promise<void> | undefined;
  /** The dominant speaker (ActiveSpeakerObserver) and the mic producer it was detected on. */
  #speaker: { peerId: string; producerId: string } | undefined;

  constructor(opts: RoomMediaOptions) {
    this.#host = opts.host;
    this.#pool = opts.pool;
    this.#roomId = opts.roomId;
    this.#log = opts.log;
    this.#maxConsumers = opts.maxConsumersPerRouter;
  }

  /** The pid of the worker of the room's first router (the one with the observers). */
  get workerPid(): number | undefined {
    const slot = this.#slots.find((s) => s.router === this.#observers?.router) ?? this.#slots[0];
    return slot?.workerPid;
  }

  /** The pid of the worker serving `memberId`, if it has a router. */
  workerPidOf(memberId: string): number | undefined {
    return this.#placement.get(memberId)?.workerPid;
  }

  /** The room's routers, where they run and who is on them. */
  routers(): RouterInfo[] {
    return this.#slots.map((s) => ({
      routerId: s.router.id,
      workerPid: s.workerPid,
      consumers: s.consumers,
      load: this.#load(s),
      members: [...this.#placement].filter(([, p]) => p === s).map(([id]) => id),
      observers: this.#observers?.router === s.router,
    }));
  }

  /** Producers piped between this room's routers right now. */
  get pipes(): number {
    return this.#pipes.size;
  }

  /** Who is speaking now (media.activeSpeaker is sent on changes only: newcomers ask). */
  get speaker(): string | undefined {
    return this.#speaker?.peerId;
  }

  /** The router serving `memberId` (a newcomer too), placed on first use. Throws MEDIA_UNAVAILABLE. */
  async routerFor(memberId: string): Promise<Router> {
    const placed = this.#placement.get(memberId);
    if (placed && !placed.router.closed) return placed.router;
    let slot: Slot;
    try {
      slot = await this.#place();
    } catch (err) {
      // A room closed meanwhile (deleted, server shutting down) is not a failure.
      if (!this.#host.closed) this.#log.error({ err }, 'could not create router');
      throw new TuttiError('MEDIA_UNAVAILABLE', 'media server unavailable, try again shortly');
    }
    // Concurrent calls for one member: the first placement wins.
    const again = this.#placement.get(memberId);
    if (again && !again.router.closed) return again.router;
    // A late call of a member that left meanwhile must not hold a router open.
    const wanted = this.#host.hasMember(memberId) || this.#host.pendingJoins > 0;
    if (!wanted) throw new TuttiError('NOT_JOINED', 'no longer in the room');
    this.#placement.set(memberId, slot);
    return slot.router;
  }

  /** The router serving `memberId` if it exists now (consumers are made on a live one only). */
  currentRouterFor(memberId: string): Router | undefined {
    const slot = this.#placement.get(memberId);
    return slot && !slot.router.closed ? slot.router : undefined;
  }

  /**
   * Makes `producer` consumable on `router` (piping it there if it lives elsewhere): the id
   * to consume there, and a release to call once the consumer exists or could not be made.
   */
  async reach(producer: Producer<ProducerAppData>, router: Router): Promise<Reached> {
    const origin = this.#origin.get(producer.id);
    if (!origin) throw new Error('producer has no router in this room');
    return this.#pipes.reach(producer, origin.router, router);
  }

  /** A live router of the room (the observers' one first): where pipes to other nodes attach. */
  anchorRouter(): Router | undefined {
    const observed = this.#observers?.router;
    if (observed && !observed.closed) return observed;
    return this.#slots.find((s) => !s.router.closed)?.router;
  }

  /** A producer piped in from another node onto `router`: the members can reach() it. */
  adoptRemote(producer: Producer<ProducerAppData>, router: Router): void {
    const slot = this.#slots.find((s) => s.router === router);
    if (!slot || producer.closed) throw new Error('router not in this room');
    this.#origin.set(producer.id, slot);
    producer.observer.once('close', () => {
      if (this.#origin.get(producer.id) === slot) this.#origin.delete(producer.id);
    });
  }

  /** The router a member's producer was made on (server-side consumers such as recording). */
  originRouter(producerId: string): Router | undefined {
    const slot = this.#origin.get(producerId);
    return slot && !slot.router.closed ? slot.router : undefined;
  }

  async #place(): Promise<Slot> {
    for (;;) {
      const open = this.#slots
        .filter((s) => !s.router.closed)
        .map((slot) => ({ slot, load: this.#load(slot) }));
      const roomy = open.filter((o) => o.load < this.#maxConsumers);
      if (roomy.length > 0) return leastLoaded(roomy);
      if (this.#creating) {
        await this.#creating;
        continue;
      }
      if (open.length > 0 && !this.#canGrow(open.map((o) => o.slot))) return leastLoaded(open);
      this.#creating = this.#newSlot().finally(() => {
        this.#creating = undefined;
      });
      return await this.#creating;
    }
  }

  /**
   * The consumers a router carries, or will once its members consume every producer of the
   * others (members placed in a burst of joins have no consumers yet: they count too).
   */
  #load(slot: Slot): number {
    const producers = this.#origin.size;
    let expected = 0;
    for (const [id, s] of this.#placement) {
      if (s === slot) expected += producers - (this.#producersOf.get(id) ?? 0);
    }
    return Math.max(slot.consumers, expected);
  }

  /** A new router may go on a worker this room is not on (or the pool has one worker only). */
  #canGrow(open: Slot[]): boolean {
    if (this.#pool.size <= 1) return true;
    const used = new Set(open.map((s) => s.workerPid));
    return this.#pool.status().some((w) => w.alive && !used.has(w.pid));
  }

  async #newSlot(): Promise<Slot> {
    const router = await this.#pool.createRouter(
      { mediaCodecs, appData: { roomId: this.#roomId } },
      { avoidPids: this.#slots.map((s) => s.workerPid) },
    );
    const slot: Slot = { router, workerPid: router.appData.workerPid as number, consumers: 0 };
    this.#watch(slot);
    router.on('workerclose', () => void this.#onWorkerClosed(slot));
    const host = this.#host;
    if (host.closed || (host.size === 0 && host.pendingJoins === 0)) {
      // Nobody needs it any more.
      router.close();
      throw new Error('room closed while creating its router');
    }
    this.#slots.push(slot);
    this.#log.info({ workerPid: slot.workerPid, routers: this.#slots.length }, 'router created');
    await this.#ensureObservers(slot);
    return slot;
  }

  /** Counts the slot's consumers and remembers where each producer was made. */
  #watch(slot: Slot): void {
    this.#pipes.watch(slot.router);
    slot.router.observer.on('newtransport', (transport) => {
      if (transport.type !== 'webrtc') return;
      transport.observer.on('newconsumer', (consumer) => {
        slot.consumers++;
        consumer.observer.once('close', () => slot.consumers--);
      });
      transport.observer.on('newproducer', (producer) => {
        const peerId = (producer.appData as ProducerAppData).peerId;
        this.#origin.set(producer.id, slot);
        this.#producersOf.set(peerId, (this.#producersOf.get(peerId) ?? 0) + 1);
        producer.observer.once('close', () => {
          if (this.#origin.get(producer.id) === slot) this.#origin.delete(producer.id);
          const left = (this.#producersOf.get(peerId) ?? 1) - 1;
          if (left > 0) this.#producersOf.set(peerId, left);
          else this.#producersOf.delete(peerId);
        });
      });
    });
  }

  /** The speaker observers live on one router; made on `slot` when the room has none. */
  async #ensureObservers(slot: Slot): Promise<void> {
    if (this.#observers && !this.#observers.router.closed) return;
    this.#observersStarting ??= this.#startObservers(slot).finally(() => {
      this.#observersStarting = undefined;
    });
    await this.#observersStarting;
  }

  async #startObservers(slot: Slot): Promise<void> {
    let observers: SpeakerObservers;
    try {
      observers = await SpeakerObservers.create(slot.router, this.#pipes, {
        dominant: (producer) => {
          if (this.#observers !== observers) return;
          const peerId = producer.appData.peerId;
          // A mic piped in from another node belongs to a member there.
          if (!producer.appData.originNode && !this.#host.hasMember(peerId)) return;
          this.#speaker = { peerId, producerId: producer.id };
          this.#host.broadcast('media.activeSpeaker', { peerId });
        },
        levels: (levels) => {
          if (this.#observers === observers) this.#host.broadcast('media.audioLevels', { levels });
        },
      });
    } catch (err) {
      if (!slot.router.closed) this.#log.error({ err }, 'could not create speaker observers');
      return;
    }
    if (slot.router.closed || !this.#slots.includes(slot)) return;
    this.#observers = observers;
    // After a move: the mics that survived are listened to again.
    for (const mic of this.#host.mics()) void this.observeMic(mic);
  }

  /** A new mic: the speaker and level observers listen to it (piped to their router). */
  async observeMic(producer: Producer<ProducerAppData>): Promise<void> {
    const origin = this.#origin.get(producer.id);
    if (!this.#observers || !origin) return;
    await this.#observers.observe(producer, origin.router);
  }

  /** A producer closed (its member left, the worker died…): it may have been the speaker's mic. */
  producerGone(producerId: string): void {
    if (this.#speaker?.producerId !== producerId) return;
    this.#speaker = undefined;
    this.#host.broadcast('media.activeSpeaker', { peerId: null });
  }

  /** A member left (its transports are closed): a router nobody is on any more closes. */
  memberLeft(memberId: string): void {
    const slot = this.#placement.get(memberId);
    if (!slot) return;
    this.#placement.delete(memberId);
    if (this.#observers?.router === slot.router) return; // Kept while the room lives.
    if ([...this.#placement.values()].includes(slot)) return;
    this.#slots = this.#slots.filter((s) => s !== slot);
    slot.router.close(); // Its pipe transports close, and with them their other ends.
    this.#log.info({ workerPid: slot.workerPid, routers: this.#slots.length }, 'router closed');
  }

  /** No join is under way: placements of would-be members that never got in are dropped. */
  forgetStrangers(): void {
    for (const id of [...this.#placement.keys()]) {
      if (!this.#host.hasMember(id)) this.memberLeft(id);
    }
  }

  /** Closes every router (nobody inside any more, or the room closed). */
  close(): void {
    const slots = this.#slots;
    this.#slots = [];
    this.#placement.clear();
    this.#observers?.close();
    this.#observers = undefined;
    this.#speaker = undefined;
    for (const s of slots) if (!s.router.closed) s.router.close();
  }

  async #onWorkerClosed(slot: Slot): Promise<void> {
    // A closed room (shutdown closes rooms before the workers) has nothing to move.
    if (this.#host.closed || !this.#slots.includes(slot)) return;
    this.#slots = this.#slots.filter((s) => s !== slot);
    const lost = [...this.#placement].filter(([, s]) => s === slot).map(([id]) => id);
    for (const id of lost) this.#placement.delete(id);
    const hadObservers = this.#observers?.router === slot.router;
    if (hadObservers) {
      this.#observers?.close();
      this.#observers = undefined;
      this.#speaker = undefined;
    }
    this.#log.warn({ workerPid: slot.workerPid, members: lost.length }, 'worker died, moving');
    // Everything on that router died with the worker (the pipes to and from it closed too):
    // its members start from scratch; the others keep their media.
    this.#host.mediaLost(lost);
    if (this.#host.closed || this.#host.size === 0) return;
    try {
      if (this.#slots[0]) {
        if (hadObservers) await this.#ensureObservers(this.#slots[0]);
      } else if (lost.length > 0) {
        await this.#place(); // Ready before they come back.
      }
    } catch (err) {
      // Members get media.restart anyway and retry themselves.
      if (!this.#host.closed) this.#log.error({ err }, 'could not create router');
    }
    this.#host.tell(lost, 'media.restart', { reason: 'worker-died' });
  }
}

function leastLoaded(slots: { slot: Slot; load: number }[]): Slot {
  return slots.reduce((best, s) => (s.load < best.load ? s : best)).slot;
}
