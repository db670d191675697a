import type {
  Consumer,
  DtlsParameters,
  IceParameters,
  MediaKind,
  Producer,
  RtpCapabilities,
  RtpParameters,
  WebRtcTransport,
} from 'mediasoup/types';
import { webRtcTransportOptions } from '@tutti/media-workers';
import type { Config } from '@tutti/config';
import { TuttiError, type MediaSource, type TransportOptions } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import { handedOn, offerConsumer, type DeliverConsumer } from './consume.ts';
import { connectOnce } from './dtlsConnect.ts';
import { guardDownlink, pauseAsAsked, preferLayers } from './downlinkGuard.ts';
import { takeOrMake } from './spareTransports.ts';
import { madeWhileWanted, mediasoupCall, whileOpen } from './mediaErrors.ts';
import { transportParameters } from './transportParameters.ts';
import {
  SOURCE_KIND,
  type ConsumerAppData,
  type Direction,
  type MediaPresence,
  type ProducerAppData,
  type TransportAppData,
} from './mediaTypes.ts';
import { freshGeneration, type Generation } from './mediaGeneration.ts';
import type { Reached } from './pipes.ts';
import type { MemberChannel } from './ports.ts';
import type { RoomMedia } from './RoomMedia.ts';

/** What one member's media asks of its room (the Room binds it to the member). */
export interface MemberMediaHost {
  /** Every producer of the other members (a member whose device got ready consumes them). */
  othersProducers(): Iterable<Producer<ProducerAppData>>;
  /** The other members start consuming a new producer of this member. */
  share(producer: Producer<ProducerAppData>): void;
  /** Mic/camera/screen as derived from the producers (may be unchanged). */
  presenceChanged(presence: MediaPresence): void;
}

export interface MemberMediaOptions {
  id: string;
  channel: MemberChannel;
  config: Config;
  log: Logger;
  room: RoomMedia;
  host: MemberMediaHost;
}

/**
 * One member's transports, producers and consumers (mediasoup-demo's Peer): every media
 * request of that member lands here, already knowing whose it is. After each await it checks
 * that the member is still inside with the same generation (it may have left, re-joined as
 * a new member, or lost its worker meanwhile).
 */
export class MemberMedia {
  readonly #id: string;
  readonly #channel: MemberChannel;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #room: RoomMedia;
  readonly #host: MemberMediaHost;
  /** Made on first use (mediaGeneration.ts); undefined again after a reset(). */
  #gen: Generation | undefined;
  #closed = false;

  constructor(opts: MemberMediaOptions) {
    this.#id = opts.id;
    this.#channel = opts.channel;
    this.#config = opts.config;
    this.#log = opts.log;
    this.#room = opts.room;
    this.#host = opts.host;
  }

  /** The open producers (what the other members consume). */
  producers(): Iterable<Producer<ProducerAppData>> {
    return this.#gen?.producers.values() ?? [];
  }

  /** The member left: its transports close, and with them its producers and consumers. */
  close(): void {
    this.#closed = true;
    for (const t of this.#gen?.transports.values() ?? []) t.close();
  }

  /** The worker died: forget everything (it closed with the worker); the client starts over. */
  reset(): void {
    this.#gen = undefined;
  }

  get #current(): Generation {
    return (this.#gen ??= freshGeneration());
  }

  #isCurrent(gen: Generation): boolean {
    return !this.#closed && this.#gen === gen;
  }

  /** Made for `gen`: if the member left (maybe re-joined) or lost its worker meanwhile, drop it. */
  #keepIfCurrent(gen: Generation, made: { close(): void }): void {
    if (this.#isCurrent(gen)) return;
    made.close();
    throw new TuttiError('NOT_JOINED', 'no longer in the room');
  }

  async routerRtpCapabilities(): Promise<RtpCapabilities> {
    return (await this.#room.routerFor(this.#id)).rtpCapabilities;
  }

  /** `ahead`: take a transport made ahead (spareTransports.ts), as the one-reply join does. */
  async createTransport(
    direction: Direction,
    forceTcp = false,
    ahead = false,
  ): Promise<TransportOptions> {
    const router = await this.#room.routerFor(this.#id);
    const gen = this.#current;
    const appData = { direction, peerId: this.#id };
    const make = () =>
      router.createWebRtcTransport<TransportAppData>({
        ...webRtcTransportOptions(this.#config.media, { forceTcp }),
        appData,
      });
    const key = `${direction}:${forceTcp}`;
    const transport = await madeWhileWanted(
      ahead ? takeOrMake(router, key, make, appData) : make(),
      router,
      () => this.#isCurrent(gen),
    );
    this.#keepIfCurrent(gen, transport);
    // One transport per direction: the newest (after media.restart, a client retry, or
    // concurrent requests) replaces the others.
    for (const t of gen.transports.values()) if (t.appData.direction === direction) t.close();
    gen.transports.set(transport.id, transport);
    transport.observer.once('close', () => gen.transports.delete(transport.id));
    const log = this.#log.child({ transportId: transport.id });
    const badDtls = new Set(['failed', 'closed']);
    transport.on('dtlsstatechange', (s) => badDtls.has(s) && log.warn({ state: s }, 'DTLS state'));
    transport.on('icestatechange', (state) => log.debug({ state }, 'transport ICE state'));
    if (direction === 'send') {
      await transport.setMaxIncomingBitrate(this.#config.media.maxIncomingBitrate).catch(() => {});
    } else {
      // The lowest layer stays allowed, and is what a congested link gets; media.ready came
      // first (or a new recv transport): consume.
      await transport.setMinOutgoingBitrate(this.#config.media.minOutgoingBitrate).catch(() => {});
      if (this.#config.media.downlinkGuard) guardDownlink(transport, log);
      if (gen.rtpCapabilities) setImmediate(() => this.#consumeAll());
    }
    return transportParameters(transport);
  }

  /** Once per transport (dtlsConnect.ts): the one-reply join may have connected it already. */
  async connectTransport(transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    return connectOnce(this.#assertAndGetTransport(transportId), dtlsParameters);
  }

  async restartIce(transportId: string): Promise<IceParameters> {
    const t = this.#assertAndGetTransport(transportId);
    return mediasoupCall(() => t.restartIce());
  }

  /** The client's device is loaded: remember its capabilities and consume everything there is. */
  async ready(rtpCapabilities: RtpCapabilities, consume = true): Promise<void> {
    await this.#room.routerFor(this.#id);
    if (this.#closed) throw new TuttiError('NOT_JOINED', 'no longer in the room');
    this.#current.rtpCapabilities = rtpCapabilities;
    if (consume) this.#consumeAll();
    const speaker = this.#room.speaker;
    if (speaker !== undefined)
      void this.#channel.notify('media.activeSpeaker', { peerId: speaker });
  }

  /**
   * The one-reply join's media.ready: the consumers of what the others already send go to
   * `deliver` (the join answer) instead of media.newConsumer. Resolves once each one was
   * handed to `deliver` or given up (not when `deliver` settles: that is after the answer).
   */
  async readyInAnswer(rtpCapabilities: RtpCapabilities, deliver: DeliverConsumer): Promise<void> {
    await this.ready(rtpCapabilities, false);
    const consume = (p: Producer<ProducerAppData>) => (d: DeliverConsumer) => this.#consume(p, d);
    const all = [...this.#host.othersProducers()];
    await Promise.all(all.map((p) => handedOn(consume(p), deliver, this.#log)));
  }

  async produce(args: {
    transportId: string;
    kind: MediaKind;
    rtpParameters: RtpParameters;
    source: MediaSource;
    paused?: boolean | undefined;
  }): Promise<string> {
    const { source } = args;
    if (SOURCE_KIND[source] !== args.kind) {
      throw new TuttiError('INVALID_REQUEST', `source "${source}" must be ${SOURCE_KIND[source]}`);
    }
    const transport = this.#assertAndGetTransport(args.transportId);
    if (transport.appData.direction !== 'send') {
      throw new TuttiError('INVALID_REQUEST', 'produce needs a send transport');
    }
    const gen = this.#current;
    const producer = await mediasoupCall(() =>
      transport.produce<ProducerAppData>({
        kind: args.kind,
        rtpParameters: args.rtpParameters,
        paused: args.paused ?? false,
        appData: { source, peerId: this.#id },
      }),
    );
    this.#keepIfCurrent(gen, producer);
    // One producer per source: the newest (re-sharing, a device switch, concurrent
    // requests) replaces the others.
    for (const p of gen.producers.values()) if (p.appData.source === source) p.close();
    gen.producers.set(producer.id, producer);
    const onGone = () => {
      // The dominant speaker's mic may have gone (closed, its member left, worker died).
      this.#room.producerGone(producer.id);
      if (gen.producers.delete(producer.id)) this.#refreshPresence();
    };
    producer.on('transportclose', onGone);
    producer.observer.once('close', onGone);
    producer.on('score', (scores) => {
      const score = scores.reduce((max, s) => Math.max(max, s.score), 0);
      void this.#channel.notify('media.producerScore', { producerId: producer.id, score });
    });
    if (source === 'mic') await this.#room.observeMic(producer);
    this.#refreshPresence();
    this.#host.share(producer);
    return producer.id;
  }

  closeProducer(producerId: string): void {
    this.#assertAndGetProducer(producerId).close();
    this.#refreshPresence();
  }

  pauseProducer(producerId: string): Promise<void> {
    const p = this.#assertAndGetProducer(producerId);
    return this.#producerCall(p, () => p.pause());
  }

  resumeProducer(producerId: string): Promise<void> {
    const p = this.#assertAndGetProducer(producerId);
    return this.#producerCall(p, () => p.resume());
  }

  async #producerCall(p: Producer<ProducerAppData>, call: () => Promise<void>): Promise<void> {
    await whileOpen(p, 'producer', call);
    this.#refreshPresence();
  }

  pauseConsumer(consumerId: string): Promise<void> {
    const c = this.#assertAndGetConsumer(consumerId);
    return whileOpen(c, 'consumer', () => pauseAsAsked(c, true));
  }

  resumeConsumer(consumerId: string): Promise<void> {
    const c = this.#assertAndGetConsumer(consumerId);
    return whileOpen(c, 'consumer', () => pauseAsAsked(c, false));
  }

  async setConsumerPreferredLayers(
    consumerId: string,
    spatialLayer: number,
    temporalLayer: number | undefined,
  ): Promise<void> {
    const c = this.#assertAndGetConsumer(consumerId);
    if (c.type !== 'simulcast' && c.type !== 'svc') return; // Nothing to choose from.
    const layers = temporalLayer === undefined ? { spatialLayer } : { spatialLayer, temporalLayer };
    await whileOpen(c, 'consumer', () => preferLayers(c, layers));
  }

  async getStats(kind: 'transport' | 'producer' | 'consumer', id: string): Promise<unknown[]> {
    switch (kind) {
      case 'transport':
        return this.#assertAndGetTransport(id).getStats();
      case 'producer':
        return this.#assertAndGetProducer(id).getStats();
      case 'consumer':
        return this.#assertAndGetConsumer(id).getStats();
    }
  }

  /** Fire-and-forget: consume `producer` of another member (a failure is logged). */
  consume(producer: Producer<ProducerAppData>): void {
    this.#consume(producer).catch((err: unknown) => {
      this.#log.error({ err, producerId: producer.id }, 'could not create consumer');
    });
  }

  /** Consumes every producer of the other members (skips the ones it already has). */
  #consumeAll(): void {
    if (this.#closed) return;
    for (const producer of this.#host.othersProducers()) this.consume(producer);
  }

  async #consume(producer: Producer<ProducerAppData>, deliver?: DeliverConsumer): Promise<void> {
    const gen = this.#current;
    const transport = [...gen.transports.values()].find((t) => t.appData.direction === 'recv');
    if (!transport) return;
    // Per recv transport: one that replaced another must not wait on the old one's attempt.
    const attempt = `${transport.id}:${producer.id}`;
    if (gen.consuming.has(attempt)) return;
    gen.consuming.add(attempt);
    try {
      const router = this.#room.currentRouterFor(this.#id);
      const caps = gen.rtpCapabilities;
      if (!router || !caps || producer.closed) return;
      for (const c of gen.consumers.values()) if (c.appData.producerId === producer.id) return;
      // A producer of another router of the room is piped to ours first (held until our
      // consumer exists; the consumer then keeps the pipe open).
      let reached: Reached;
      try {
        reached = await this.#room.reach(producer, router);
      } catch (err) {
        this.#log.debug({ err, producerId: producer.id }, 'producer not reachable');
        return;
      }
      try {
        if (!this.#isCurrent(gen) || producer.closed || router.closed) return;
        let canConsume: boolean;
        try {
          canConsume = router.canConsume({
            producerId: reached.producerId,
            rtpCapabilities: caps,
          });
        } catch {
          canConsume = false;
        }
        if (!canConsume) return;
        await offerConsumer(
          {
            channel: this.#channel,
            log: this.#log,
            transport,
            rtpCapabilities: caps,
            consumers: gen.consumers,
            isCurrent: () => this.#isCurrent(gen),
          },
          producer,
          reached.producerId,
          deliver,
        );
      } finally {
        reached.release();
      }
    } finally {
      gen.consuming.delete(attempt);
    }
  }

  /** Derives mic/camera/screen from the open producers and hands it to the room. */
  #refreshPresence(): void {
    if (this.#closed) return;
    const bySource = new Map<MediaSource, Producer<ProducerAppData>>();
    for (const p of this.#current.producers.values())
      if (!p.closed) bySource.set(p.appData.source, p);
    const state = (s: MediaSource): 'on' | 'off' | 'none' => {
      const p = bySource.get(s);
      return p ? (p.paused ? 'off' : 'on') : 'none';
    };
    this.#host.presenceChanged({
      mic: state('mic'),
      camera: state('camera'),
      screen: bySource.has('screen'),
    });
  }

  #assertAndGetTransport(transportId: string): WebRtcTransport<TransportAppData> {
    const t = this.#current.transports.get(transportId);
    if (!t) throw new TuttiError('NOT_FOUND', 'transport not found');
    return t;
  }

  #assertAndGetProducer(producerId: string): Producer<ProducerAppData> {
    const p = this.#current.producers.get(producerId);
    if (!p) throw new TuttiError('NOT_FOUND', 'producer not found');
    return p;
  }

  #assertAndGetConsumer(consumerId: string): Consumer<ConsumerAppData> {
    const c = this.#current.consumers.get(consumerId);
    if (!c) throw new TuttiError('NOT_FOUND', 'consumer not found');
    return c;
  }
}
