import type { Consumer, PipeTransport, Producer, Router } from 'mediasoup/types';
import type { z } from 'zod';
import type { Config } from '@tutti/config';
import { TuttiError } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { ProducerAppData } from '../rooms/mediaTypes.ts';
import type { Room } from '../rooms/Room.ts';
import { OriginClock } from './announcementOrder.ts';
import type { MediaMethods, RemoteProducerInfo, Stamp } from './mediaMethods.ts';
import { createPipeEnd, describeEnd, type MediaRpc, type PipeEnd } from './pipeEnds.ts';

/** The origin's half of one room's pipe to one edge node. */
interface OriginLink {
  readonly router: Router;
  readonly transport: PipeTransport;
  /** Pipe consumers by the origin producer's id, each holding its in-node reach(). */
  readonly consumers: Map<string, { consumer: Consumer; release(): void }>;
  /** Closed on purpose (the edge asked, the edge is gone): the edge is not told. */
  closing: boolean;
}

export interface MediaOriginDeps {
  rpc: MediaRpc;
  room: (roomId: string) => Room | undefined;
  media: Config['media'];
  log: Logger;
}

export function producerInfo(p: Producer<ProducerAppData>): RemoteProducerInfo {
  const { source, peerId } = p.appData;
  return { producerId: p.id, kind: p.kind, source, peerId, paused: p.paused };
}

const key = (roomId: string, node: string): string => `${roomId}|${node}`;

/**
 * This node as the origin of its members' producers: the edge nodes watching each room
 * (told of new producers), and per (room, edge) one PipeTransport on the room's anchor
 * router carrying the producers the edge asked for. A producer on another router of the
 * room reaches the anchor through the in-node pipes. Pause, resume and close of a piped
 * producer are told to the edge; the pipe closes when the edge says so or is gone.
 */
export class MediaOrigin {
  readonly #deps: MediaOriginDeps;
  /** roomId → edge nodes watching it. */
  readonly #watchers = new Map<string, Set<string>>();
  readonly #links = new Map<string, OriginLink>();
  readonly #clock = new OriginClock();

  constructor(deps: MediaOriginDeps) {
    this.#deps = deps;
  }

  /** Pipes open right now (tests, inspection). */
  get links(): number {
    return this.#links.size;
  }

  watchers(roomId: string): ReadonlySet<string> {
    return this.#watchers.get(roomId) ?? new Set();
  }

  /** `edge` hosts members of the room: its producers now; later ones are announced. */
  watch(roomId: string, edge: string): { producers: RemoteProducerInfo[]; stamp: Stamp } {
    return { producers: this.#watch(roomId, edge), stamp: this.#clock.now() };
  }

  /** The edge still watches these rooms (a watcher dropped meanwhile is added back). */
  rewatch(roomIds: string[], edge: string): { rooms: RoomProducers[]; stamp: Stamp } {
    const rooms = roomIds.map((roomId) => ({ roomId, producers: this.#watch(roomId, edge) }));
    return { rooms, stamp: this.#clock.now() };
  }

  #watch(roomId: string, edge: string): RemoteProducerInfo[] {
    const set = this.#watchers.get(roomId) ?? new Set();
    this.#watchers.set(roomId, set.add(edge));
    const room = this.#deps.room(roomId);
    const piped = this.#links.get(key(roomId, edge))?.consumers;
    const out: RemoteProducerInfo[] = [];
    for (const m of room?.members() ?? [])
      for (const p of m.media.producers()) {
        if (p.closed) continue;
        // What the edge was told: the pipe consumer's pause events are its announcements.
        const consumer = piped?.get(p.id)?.consumer;
        const paused = consumer && !consumer.closed ? consumer.producerPaused : p.paused;
        out.push({ ...producerInfo(p), paused });
      }
    return out;
  }

  unwatch(roomId: string, edge: string): void {
    const set = this.#watchers.get(roomId);
    set?.delete(edge);
    if (set?.size === 0) this.#watchers.delete(roomId);
    this.close(roomId, edge);
  }

  /** A local member produced: every watching edge hears of it. */
  produced(roomId: string, producer: Producer<ProducerAppData>): void {
    for (const edge of this.#watchers.get(roomId) ?? []) {
      const stamp = this.#clock.next();
      this.#tell(edge, 'media.producerOpened', { roomId, producer: producerInfo(producer), stamp });
    }
  }

  /** Opens the room's pipe to `edge` (a reopen replaces the old one) and connects it. */
  async open(roomId: string, edge: string, edgeEnd: PipeEnd): Promise<PipeEnd> {
    const router = this.#deps.room(roomId)?.media.anchorRouter();
    if (!router) throw new TuttiError('NOT_FOUND', 'no media of that room on this node');
    this.close(roomId, edge);
    const transport = await createPipeEnd(router, this.#deps.media, { roomId, remoteNode: edge });
    const link: OriginLink = { router, transport, consumers: new Map(), closing: false };
    this.#links.set(key(roomId, edge), link);
    transport.observer.once('close', () => {
      if (this.#links.get(key(roomId, edge)) === link) this.#links.delete(key(roomId, edge));
      for (const c of link.consumers.values()) c.release();
      link.consumers.clear();
      // The router went (its worker died, the room emptied): the edge pipes again.
      if (!link.closing) this.#tell(edge, 'pipe.closed', { roomId });
    });
    try {
      await transport.connect(edgeEnd);
    } catch (err) {
      this.#closeLink(link);
      throw err;
    }
    return describeEnd(transport);
  }

  /** Sends `producerId` through the room's pipe to `edge`: what the edge produces. */
  async consume(
    roomId: string,
    edge: string,
    producerId: string,
  ): Promise<{
    producer: RemoteProducerInfo;
    rtpParameters: Consumer['rtpParameters'];
    stamp: Stamp;
  }> {
    const room = this.#deps.room(roomId);
    const link = this.#links.get(key(roomId, edge));
    const producer = room && findProducer(room, producerId);
    if (!room || !producer) throw new TuttiError('NOT_FOUND', 'producer not found');
    if (!link || link.transport.closed) throw new TuttiError('NOT_FOUND', 'no pipe open');
    const had = link.consumers.get(producerId);
    if (had) {
      const { rtpParameters, producerPaused: paused } = had.consumer;
      return {
        producer: { ...producerInfo(producer), paused },
        rtpParameters,
        stamp: this.#clock.now(),
      };
    }
    const reached = await room.media.reach(producer, link.router);
    let consumer: Consumer;
    try {
      consumer = await link.transport.consume({ producerId: reached.producerId });
    } catch (err) {
      reached.release();
      throw err;
    }
    if (link.transport.closed || producer.closed || link.consumers.has(producerId)) {
      consumer.close();
      reached.release();
      throw new TuttiError('NOT_FOUND', 'producer or pipe closed meanwhile');
    }
    link.consumers.set(producerId, { consumer, release: reached.release });
    const tell = (
      method: 'media.producerPaused' | 'media.producerResumed' | 'media.producerClosed',
    ) => this.#tell(edge, method, { roomId, producerId, stamp: this.#clock.next() });
    consumer.on('producerpause', () => tell('media.producerPaused'));
    consumer.on('producerresume', () => tell('media.producerResumed'));
    consumer.on('producerclose', () => tell('media.producerClosed'));
    consumer.observer.once('close', () => {
      if (link.consumers.get(producerId)?.consumer === consumer) link.consumers.delete(producerId);
      reached.release();
    });
    return {
      producer: { ...producerInfo(producer), paused: consumer.producerPaused },
      rtpParameters: consumer.rtpParameters,
      stamp: this.#clock.now(),
    };
  }

  /** The edge has no use for it any more. */
  unconsume(roomId: string, edge: string, producerId: string): void {
    this.#links.get(key(roomId, edge))?.consumers.get(producerId)?.consumer.close();
  }

  /** Closes the room's pipe to `edge` (asked by it, or it is gone). */
  close(roomId: string, edge: string): void {
    const link = this.#links.get(key(roomId, edge));
    if (link) this.#closeLink(link);
  }

  /** `node` left the cluster (or restarted): no more pipes to it or announcements for it. */
  nodeGone(node: string): void {
    for (const [roomId, set] of [...this.#watchers]) {
      if (set.delete(node) && set.size === 0) this.#watchers.delete(roomId);
    }
    // Not quietly: an edge only partitioned away re-pipes when told (a dead one is not there).
    for (const [k, link] of [...this.#links]) if (k.endsWith(`|${node}`)) link.transport.close();
  }

  closeAll(): void {
    this.#watchers.clear();
    for (const link of [...this.#links.values()]) this.#closeLink(link);
  }

  #closeLink(link: OriginLink): void {
    link.closing = true;
    if (!link.transport.closed) link.transport.close();
  }

  /** Announcements are fire and forget: a lost one is repaired by the edge's next rewatch. */
  #tell<K extends Announcement>(
    edge: string,
    method: K,
    data: z.input<MediaMethods[K]['request']>,
  ): void {
    this.#deps.rpc
      .request(edge, method, data)
      .catch((err: unknown) => this.#deps.log.debug({ err, edge, method }, 'media: not told'));
  }
}

type RoomProducers = { roomId: string; producers: RemoteProducerInfo[] };

type Announcement =
  | 'media.producerOpened'
  | 'media.producerClosed'
  | 'media.producerPaused'
  | 'media.producerResumed'
  | 'pipe.closed';

function findProducer(room: Room, producerId: string): Producer<ProducerAppData> | undefined {
  for (const m of room.members())
    for (const p of m.media.producers()) if (p.id === producerId && !p.closed) return p;
  return undefined;
}
