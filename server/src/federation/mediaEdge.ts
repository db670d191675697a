import type { PipeTransport, Producer, Router } from 'mediasoup/types';
import type { Config } from '@tutti/config';
import { TuttiError } from '@tutti/protocol';
import { ClusterError } from '../cluster/index.ts';
import type { Logger } from '../kernel/log.ts';
import type { ProducerAppData } from '../rooms/mediaTypes.ts';
import type { Room } from '../rooms/Room.ts';
import { listed, OriginView, type Heard } from './announcementOrder.ts';
import { EAGER_ATTEMPTS, EdgeRetries } from './edgeRetries.ts';
import type { RemoteProducerInfo, Stamp } from './mediaMethods.ts';
import { createPipeEnd, describeEnd, type MediaRpc } from './pipeEnds.ts';

/** A producer of the origin, piped in (or being piped in). */
interface Entry {
  readonly info: RemoteProducerInfo;
  producer?: Producer<ProducerAppData>;
  /** What the origin said last (announcements may overtake the pipe.consume answer). */
  paused: boolean;
  closed: boolean;
}

/** The edge's half of one room's pipe from one origin node. */
interface EdgeLink {
  readonly roomId: string;
  readonly origin: string;
  readonly router: Router;
  transport?: PipeTransport;
  ready: Promise<void>;
  readonly entries: Map<string, Entry>;
  closed: boolean;
  /** Closed on purpose: no pipe.close to the origin, no re-pipe. */
  quiet: boolean;
}

export interface MediaEdgeDeps {
  rpc: MediaRpc;
  room: (roomId: string) => Room | undefined;
  /** The other nodes hosting members of the room (placement.spread). */
  hosts: (roomId: string) => Promise<string[]>;
  /** Presence still lists this member of the room (on another node). */
  present: (roomId: string, peerId: string) => boolean;
  media: Config['media'];
  log: Logger;
}

const key = (roomId: string, node: string): string => `${roomId}|${node}`;

/** A producer held: `paused` as the origin said last (unknown while a pipe-in waits to retry). */
export interface Held {
  readonly paused: boolean | undefined;
  readonly closed: boolean;
}

/** The origin itself answered that it has no such producer (or no media of the room). */
const notThere = (err: unknown): boolean =>
  err instanceof TuttiError && !(err instanceof ClusterError) && err.code === 'NOT_FOUND';

/**
 * This node as an edge: while it hosts members of a room it watches the other nodes
 * hosting it, and pipes their producers in, each as a producer with the origin's id and
 * appData on the room's anchor router, which the local members consume like a local one
 * (Room.remote). One SRTP PipeTransport pair per (room, origin node), opened with the first
 * producer and closed with the last; everything closes when the room's last local member
 * leaves or the origin node is gone. A watch or a pipe that fails (the origin briefly
 * unreachable, slow, erring) is tried again with a capped backoff for as long as the room
 * has local members and the origin still hosts it, or presence still lists the producer's
 * member; a member here must not keep a dead tile because its origin was away a moment.
 */
export class MediaEdge {
  readonly #deps: MediaEdgeDeps;
  /** Rooms with local members → the origin nodes watched for them, and what each said. */
  readonly #active = new Map<string, Map<string, OriginView>>();
  readonly #links = new Map<string, EdgeLink>();
  /** Node declared gone → the rooms watched there, watched again if it comes back. */
  readonly #lost = new Map<string, Set<string>>();
  readonly #retries = new EdgeRetries();

  constructor(deps: MediaEdgeDeps) {
    this.#deps = deps;
  }

  get links(): number {
    return this.#links.size;
  }

  /** Watches and pipes waiting to be tried again (tests, inspection). */
  get retrying(): number {
    return this.#retries.size;
  }

  isActive(roomId: string): boolean {
    return this.#active.has(roomId);
  }

  /** The room has local members: watch every other node hosting it. */
  async activate(roomId: string): Promise<void> {
    if (this.#active.has(roomId)) return;
    this.#active.set(roomId, new Map());
    const hosts = await this.#deps.hosts(roomId).catch((err: unknown) => {
      this.#deps.log.warn({ err, roomId }, 'media: no room spread; other nodes will ask');
      return [];
    });
    await Promise.all(hosts.map((n) => this.subscribe(roomId, n)));
  }

  /** Watches `origin` for the room (idempotent) and pipes in what it has. */
  async subscribe(roomId: string, origin: string): Promise<void> {
    const subs = this.#active.get(roomId);
    if (!subs || subs.has(origin)) return;
    subs.set(origin, new OriginView());
    await this.#sync(roomId, origin);
  }

  async #sync(roomId: string, origin: string, attempt = 0): Promise<void> {
    const subs = this.#active.get(roomId);
    // Watched anew (the pipe went): reconciles wait for this answer.
    const before = subs?.get(origin);
    if (before) before.answered = false;
    let answer: { producers: RemoteProducerInfo[]; stamp: Stamp };
    try {
      answer = await this.#deps.rpc.request(origin, 'media.watch', { roomId });
    } catch (err) {
      this.#failed(err, attempt, 'media: could not watch a node', { roomId, origin });
      if (!subs?.has(origin) || this.#active.get(roomId) !== subs) return;
      const where = { roomId, origin };
      this.#retries.schedule(`watch|${key(roomId, origin)}`, where, attempt, () => {
        void this.#resync(roomId, origin, subs, attempt + 1);
      });
      return;
    }
    this.#retries.cancel(`watch|${key(roomId, origin)}`); // Another chain's retry: not needed.
    const view = this.#active.get(roomId)?.get(origin);
    if (!view) return;
    view.answered = true;
    const heard = listed(answer.stamp);
    const fresh = answer.producers.filter((p) => view.take(p.producerId, heard, true));
    await Promise.all(fresh.map((p) => this.pipeIn(roomId, origin, p)));
  }

  /** A failed watch again, while the room has members here and the origin still hosts it. */
  async #resync(roomId: string, origin: string, subs: Map<string, OriginView>, attempt: number) {
    const wanted = () => this.#active.get(roomId) === subs && subs.has(origin);
    if (!wanted()) return;
    if (attempt >= EAGER_ATTEMPTS) {
      // Placement unreadable (Redis away): assume it still does, and ask again later.
      const hosts = await this.#deps.hosts(roomId).catch(() => [origin]);
      if (!wanted()) return;
      if (!hosts.includes(origin)) {
        subs.delete(origin); // It asks us itself when its members come back.
        return;
      }
    }
    await this.#sync(roomId, origin, attempt);
  }

  /** The first failures are warnings; a long outage is not logged at every retry. */
  #failed(err: unknown, attempt: number, msg: string, where: Record<string, string>): void {
    const level = attempt < EAGER_ATTEMPTS || attempt % 20 === 0 ? 'warn' : 'debug';
    this.#deps.log[level]({ err, ...where, attempt }, msg);
  }

  /** The room's last local member left: stop watching, close its pipes. */
  deactivate(roomId: string): void {
    const subs = this.#active.get(roomId);
    if (!subs) return;
    this.#active.delete(roomId);
    this.#retries.cancelWhere({ roomId });
    for (const origin of subs.keys()) this.#send(origin, 'media.unwatch', roomId);
    for (const link of [...this.#links.values()])
      if (link.roomId === roomId) this.#closeLink(link, true);
  }

  /** `node` left the cluster or restarted: its producers close here (their consumers too). */
  nodeGone(node: string): void {
    const lost = this.#lost.get(node) ?? new Set<string>();
    this.#retries.cancelWhere({ origin: node });
    for (const [roomId, subs] of this.#active) if (subs.delete(node)) lost.add(roomId);
    if (lost.size > 0) this.#lost.set(node, lost);
    for (const link of [...this.#links.values()])
      if (link.origin === node) this.#closeLink(link, true);
  }

  /** `node` is (back) in the registry: rooms watched there before it was declared gone. */
  nodeBack(node: string): void {
    const lost = this.#lost.get(node);
    this.#lost.delete(node);
    for (const roomId of lost ?? []) void this.subscribe(roomId, node);
  }

  closeAll(): void {
    for (const roomId of [...this.#active.keys()]) this.deactivate(roomId);
    this.#retries.cancelWhere({});
  }

  /** Origin → the rooms whose watch it answered: what the reconciler asks about. */
  watched(): Map<string, Map<string, OriginView>> {
    const out = new Map<string, Map<string, OriginView>>();
    for (const [roomId, subs] of this.#active)
      for (const [origin, view] of subs)
        if (view.answered) out.set(origin, (out.get(origin) ?? new Map()).set(roomId, view));
    return out;
  }

  /** What `origin` said of the room, while it is watched there. */
  view(roomId: string, origin: string): OriginView | undefined {
    return this.#active.get(roomId)?.get(origin);
  }

  /** The origin's producers this node holds for the room: piped (or being) in, or retried. */
  held(roomId: string, origin: string): Map<string, Held> {
    const out = new Map<string, Held>();
    for (const [id, e] of this.#links.get(key(roomId, origin))?.entries ?? [])
      out.set(id, { paused: e.paused, closed: e.closed });
    for (const id of this.#retries.producers(roomId, origin))
      if (!out.has(id)) out.set(id, { paused: undefined, closed: false });
    return out;
  }

  // ── Announcements from an origin (heard: announced; or listed, by a reconcile) ─────
  // Each applies only if newer than what was heard of that producer (announcementOrder.ts);
  // they answer whether it did.

  opened(roomId: string, origin: string, info: RemoteProducerInfo, heard: Heard): boolean {
    if (!this.view(roomId, origin)?.take(info.producerId, heard, true)) return false;
    void this.pipeIn(roomId, origin, info);
    return true;
  }

  closed(roomId: string, origin: string, producerId: string, heard: Heard): boolean {
    if (this.view(roomId, origin)?.closed(producerId, heard) === false) return false;
    this.#retries.cancel(`pipe|${key(roomId, origin)}|${producerId}`);
    const entry = this.#links.get(key(roomId, origin))?.entries.get(producerId);
    if (!entry) return true;
    entry.closed = true;
    entry.producer?.close();
    return true;
  }

  setPaused(roomId: string, origin: string, producerId: string, paused: boolean, heard: Heard) {
    const entry = this.#links.get(key(roomId, origin))?.entries.get(producerId);
    if (!entry || this.view(roomId, origin)?.take(producerId, heard, true) === false) return false;
    entry.paused = paused;
    const p = entry.producer;
    // Closed meanwhile (the pipe, the origin): nothing to pause any more.
    if (p && !p.closed && p.paused !== paused)
      void (paused ? p.pause() : p.resume()).catch(() => {});
    return true;
  }

  /** The origin's end closed (its router went): pipe everything in again. */
  pipeClosed(roomId: string, origin: string): void {
    const link = this.#links.get(key(roomId, origin));
    if (link) this.#closeLink(link, true);
    if (this.#active.get(roomId)?.has(origin)) void this.#sync(roomId, origin);
  }

  // ── Piping in ───────────────────────────────────────────────────────────────────────

  /** Pipes `info` in from `origin` (opening the room's pipe first if needed). Never throws. */
  async pipeIn(
    roomId: string,
    origin: string,
    info: RemoteProducerInfo,
    attempt = 0,
  ): Promise<void> {
    const room = this.#deps.room(roomId);
    const link = room && this.#link(room, origin);
    if (!room || !link || link.entries.has(info.producerId)) return;
    const entry: Entry = { info, paused: info.paused, closed: false };
    link.entries.set(info.producerId, entry);
    const { producerId } = info;
    try {
      await link.ready;
      if (entry.closed || link.closed) return this.#entryGone(link, entry);
      const answer = await this.#deps.rpc.request(origin, 'pipe.consume', { roomId, producerId });
      // Unless something newer was heard meanwhile (a pause announced after this answer).
      if (this.view(roomId, origin)?.take(producerId, listed(answer.stamp), true) ?? true)
        entry.paused = answer.producer.paused;
      const transport = link.transport;
      if (entry.closed || link.closed || !transport) return this.#entryGone(link, entry);
      const { source, peerId, kind } = answer.producer;
      const producer = await transport.produce<ProducerAppData>({
        id: producerId,
        kind,
        rtpParameters: answer.rtpParameters,
        paused: entry.paused,
        appData: { source, peerId, originNode: origin },
      });
      entry.producer = producer;
      producer.observer.once('close', () => this.#entryGone(link, entry));
      if (entry.closed || link.closed) return producer.close();
      if (producer.paused !== entry.paused)
        await (entry.paused ? producer.pause() : producer.resume());
      room.media.adoptRemote(producer, link.router);
      // The dominant speaker's mic may be this one.
      producer.observer.once('close', () => room.media.producerGone(producerId));
      room.remote.add(producer); // Every local member consumes it now.
      if (source === 'mic') await room.media.observeMic(producer);
    } catch (err) {
      this.#failed(err, attempt, 'media: could not pipe in', { roomId, origin, producerId });
      entry.producer?.close();
      this.#entryGone(link, entry);
      // Closed meanwhile (announced, or the pipe went and a new watch pipes it again), or the
      // origin says it has no such producer: nothing to wait for.
      if (entry.closed || notThere(err)) return;
      const where = { roomId, origin, producerId };
      this.#retries.schedule(`pipe|${key(roomId, origin)}|${producerId}`, where, attempt, () => {
        if (!this.#active.get(roomId)?.has(origin)) return; // Nobody here wants it.
        if (attempt + 1 >= EAGER_ATTEMPTS && !this.#deps.present(roomId, info.peerId)) return;
        void this.pipeIn(roomId, origin, info, attempt + 1);
      });
    }
  }

  /** The room's pipe from `origin`, opened on first use. */
  #link(room: Room, origin: string): EdgeLink | undefined {
    const existing = this.#links.get(key(room.id, origin));
    if (existing && !existing.closed) return existing;
    const router = room.media.anchorRouter();
    if (!router) return undefined;
    const link: EdgeLink = {
      roomId: room.id,
      origin,
      router,
      ready: Promise.resolve(),
      entries: new Map(),
      closed: false,
      quiet: false,
    };
    this.#links.set(key(room.id, origin), link);
    link.ready = this.#open(link);
    link.ready.catch(() => {}); // Each entry's pipeIn reports it.
    return link;
  }

  async #open(link: EdgeLink): Promise<void> {
    const { roomId, origin } = link;
    const transport = await createPipeEnd(link.router, this.#deps.media, {
      roomId,
      remoteNode: origin,
    });
    link.transport = transport;
    transport.observer.once('close', () => this.#linkClosed(link));
    if (link.closed) return transport.close();
    const answer = await this.#deps.rpc.request(origin, 'pipe.open', {
      roomId,
      edge: describeEnd(transport),
    });
    if (link.closed) return;
    await transport.connect(answer.origin);
  }

  #entryGone(link: EdgeLink, entry: Entry): void {
    if (link.entries.get(entry.info.producerId) !== entry) return;
    link.entries.delete(entry.info.producerId);
    if (link.closed) return;
    // Closed here, not by the origin: it may stop sending it.
    if (!entry.closed)
      this.#deps.rpc
        .request(link.origin, 'pipe.unconsume', {
          roomId: link.roomId,
          producerId: entry.info.producerId,
        })
        .catch(() => {});
    if (link.entries.size === 0) this.#closeLink(link, false); // Unused: closed both ends.
  }

  #closeLink(link: EdgeLink, quiet: boolean): void {
    if (link.closed) return;
    link.quiet = quiet;
    link.closed = true;
    if (this.#links.get(key(link.roomId, link.origin)) === link)
      this.#links.delete(key(link.roomId, link.origin));
    if (!quiet) this.#send(link.origin, 'pipe.close', link.roomId);
    // Its pipe producers close with it, and with them the local consumers (members told).
    link.transport?.close();
    for (const entry of link.entries.values()) entry.closed = true;
  }

  /** The transport closed: on purpose, or under us (the router's worker died). */
  #linkClosed(link: EdgeLink): void {
    if (link.closed) return;
    this.#closeLink(link, false);
    const { roomId, origin } = link;
    if (this.#active.get(roomId)?.has(origin)) void this.#sync(roomId, origin);
  }

  #send(origin: string, method: 'media.unwatch' | 'pipe.close', roomId: string): void {
    this.#deps.rpc.request(origin, method, { roomId }).catch((err: unknown) => {
      this.#deps.log.debug({ err, origin, method }, 'media: not told');
    });
  }
}
