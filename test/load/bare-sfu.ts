import { configSchema } from '@tutti/config';
import * as mediasoup from 'mediasoup';
import type {
  Consumer,
  Producer,
  Router,
  RtpCapabilities,
  WebRtcTransport,
  Worker,
} from 'mediasoup/types';
import {
  mediaCodecs,
  resolveWorkerBin,
  webRtcTransportOptions,
} from '../../media-workers/src/index.ts';
import type { TransportOptions } from '@tutti/protocol';
import type { NewConsumer } from './bots.ts';
import type { BareMethod, BareRequestMap } from './ipc.ts';
import { debugConsumer, debugNote, debugProducer, debugTransport } from './bare-debug.ts';

/**
 * The baseline: the same room logic as Tutti (join → transports → produce → ready →
 * consumers created paused, announced to the peer, resumed once answered) on bare mediasoup,
 * with no Fastify, no protoo and no validation: the bots' requests arrive over IPC and
 * become direct mediasoup calls. Same router codecs and transport options as Tutti.
 */

interface BarePeer {
  id: string;
  room: BareRoom;
  transports: Map<string, WebRtcTransport>;
  producers: Producer[];
  consumers: Consumer[];
  rtpCapabilities: RtpCapabilities | undefined;
}

interface BareRoom {
  router: Router;
  peers: Map<string, BarePeer>;
}

/** Bitrate limits the baseline's transports get, as MemberMedia gives Tutti's (0: no floor). */
export interface BareLimits {
  maxIncomingBitrate: number;
  minOutgoingBitrate: number;
}

function tuttiDefaultLimits(): BareLimits {
  const { maxIncomingBitrate, minOutgoingBitrate } = configSchema.parse({}).media;
  return { maxIncomingBitrate, minOutgoingBitrate };
}

export type AskPeer = (peerId: string, c: NewConsumer) => Promise<void>;

export class BareSfu {
  readonly worker: Worker;
  private readonly rooms = new Map<string, Promise<BareRoom>>();
  private readonly peers = new Map<string, BarePeer>();
  private readonly ask: AskPeer;
  private readonly listenIp: string;
  private readonly limits: BareLimits;

  private constructor(worker: Worker, ask: AskPeer, listenIp: string, limits: BareLimits) {
    this.worker = worker;
    this.ask = ask;
    this.listenIp = listenIp;
    this.limits = limits;
  }

  /**
   * `listenIp`: the loopback address the transports listen on (and announce). `limits`: the
   * transports' bitrate limits, by default Tutti's own defaults, so a ramp with feedback compares
   * two SFUs and not two configurations (without the floor the estimate collapses and streams stall).
   */
  static async start(
    ask: AskPeer,
    workerBin?: string,
    listenIp = '127.0.0.1',
    limits: BareLimits = tuttiDefaultLimits(),
  ): Promise<BareSfu> {
    const worker = await mediasoup.createWorker({
      workerBin: resolveWorkerBin(workerBin),
      logLevel: 'warn',
      rtcMinPort: 40000,
      rtcMaxPort: 49999,
    });
    return new BareSfu(worker, ask, listenIp, limits);
  }

  close(): void {
    this.worker.close();
  }

  private room(name: string): Promise<BareRoom> {
    let r = this.rooms.get(name);
    if (!r) {
      r = this.worker
        .createRouter({ mediaCodecs })
        .then((router) => ({ router, peers: new Map() }));
      this.rooms.set(name, r);
    }
    return r;
  }

  async handle<M extends BareMethod>(
    peerId: string,
    method: M,
    data: BareRequestMap[M]['req'],
  ): Promise<BareRequestMap[M]['res']> {
    type Res = BareRequestMap[M]['res'];
    if (method === 'join') {
      const room = await this.room((data as BareRequestMap['join']['req']).room);
      const peer: BarePeer = {
        id: peerId,
        room,
        transports: new Map(),
        producers: [],
        consumers: [],
        rtpCapabilities: undefined,
      };
      room.peers.set(peerId, peer);
      this.peers.set(peerId, peer);
      return {} as Res;
    }
    const peer = this.peers.get(peerId);
    if (!peer) throw new Error(`unknown peer ${peerId}`);
    switch (method) {
      case 'createTransport': {
        const t = await peer.room.router.createWebRtcTransport(
          webRtcTransportOptions({
            listenIp: this.listenIp,
            rtcMinPort: 40000,
            rtcMaxPort: 49999,
            enableUdp: true,
            enableTcp: true,
            preferUdp: true,
            initialAvailableOutgoingBitrate: 1_000_000,
          }),
        );
        const direction = (data as BareRequestMap['createTransport']['req']).direction;
        t.appData.direction = direction;
        if (direction === 'send') await t.setMaxIncomingBitrate(this.limits.maxIncomingBitrate);
        else if (this.limits.minOutgoingBitrate > 0)
          await t.setMinOutgoingBitrate(this.limits.minOutgoingBitrate);
        peer.transports.set(t.id, t);
        if (direction === 'recv') debugTransport(t);
        const res: TransportOptions = {
          id: t.id,
          iceParameters: t.iceParameters,
          iceCandidates: t.iceCandidates,
          dtlsParameters: t.dtlsParameters,
        };
        return res as Res;
      }
      case 'connectTransport': {
        const d = data as BareRequestMap['connectTransport']['req'];
        await this.transport(peer, d.transportId).connect({ dtlsParameters: d.dtlsParameters });
        return {} as Res;
      }
      case 'produce': {
        const d = data as BareRequestMap['produce']['req'];
        const producer = await this.transport(peer, d.transportId).produce({
          kind: d.kind,
          rtpParameters: d.rtpParameters,
          appData: { source: d.source },
        });
        peer.producers.push(producer);
        debugProducer(producer);
        for (const other of peer.room.peers.values()) {
          if (other !== peer && other.rtpCapabilities) void this.consume(other, peer, producer);
        }
        return { producerId: producer.id } as Res;
      }
      case 'ready': {
        peer.rtpCapabilities = (data as BareRequestMap['ready']['req']).rtpCapabilities;
        for (const other of peer.room.peers.values()) {
          if (other === peer) continue;
          for (const p of other.producers) void this.consume(peer, other, p);
        }
        return {} as Res;
      }
      case 'setPreferredLayers': {
        const d = data as BareRequestMap['setPreferredLayers']['req'];
        const c = peer.consumers.find((x) => x.id === d.consumerId);
        if (!c) throw new Error(`unknown consumer ${d.consumerId}`);
        // As Tutti does: only simulcast/SVC consumers have layers to choose from.
        debugNote(c, `setPreferredLayers ${d.spatialLayer} (paused ${c.paused})`);
        if (c.type === 'simulcast' || c.type === 'svc')
          await c.setPreferredLayers({ spatialLayer: d.spatialLayer });
        return {} as Res;
      }
      case 'leave': {
        for (const t of peer.transports.values()) t.close();
        peer.room.peers.delete(peerId);
        this.peers.delete(peerId);
        return {} as Res;
      }
    }
    throw new Error(`unknown method ${method}`);
  }

  private transport(peer: BarePeer, id: string): WebRtcTransport {
    const t = peer.transports.get(id);
    if (!t) throw new Error(`unknown transport ${id}`);
    return t;
  }

  private async consume(peer: BarePeer, from: BarePeer, producer: Producer): Promise<void> {
    const caps = peer.rtpCapabilities;
    const recv = [...peer.transports.values()].find((t) => t.appData.direction === 'recv');
    if (!caps || !recv) return;
    if (!peer.room.router.canConsume({ producerId: producer.id, rtpCapabilities: caps })) return;
    try {
      const consumer = await recv.consume({
        producerId: producer.id,
        rtpCapabilities: caps,
        paused: true,
      });
      peer.consumers.push(consumer);
      debugConsumer(peer.id, consumer, recv, producer);
      await this.ask(peer.id, {
        id: consumer.id,
        producerId: producer.id,
        peerId: from.id,
        kind: consumer.kind,
        source: (producer.appData as { source?: NewConsumer['source'] }).source ?? 'camera',
        rtpParameters: consumer.rtpParameters,
        type: consumer.type,
        producerPaused: consumer.producerPaused,
      });
      debugNote(consumer, 'answered: resume');
      await consumer.resume();
    } catch {
      /* peer gone or refused: the bots count what they never receive */
    }
  }
}
