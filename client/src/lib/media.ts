import { Device, type types } from 'mediasoup-client';
import type {
  MediaSource,
  RtpCapabilities,
  RtpParameters,
  TransportOptions,
} from '@tutti/protocol';
import type { Signaling } from './signaling.ts';

type Transport = types.Transport;
type Producer = types.Producer;
type Consumer = types.Consumer;

export interface ConsumerInfo {
  id: string;
  peerId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  track: MediaStreamTrack;
  producerPaused: boolean;
}

export interface MediaEvents {
  consumerAdded(info: ConsumerInfo): void;
  consumerRemoved(consumerId: string): void;
  /** A local producer appeared, changed pause state or went away (null). */
  producerChanged(source: MediaSource, state: { paused: boolean; id: string } | null): void;
  error(message: string): void;
}

export interface LayerPreference {
  spatialLayer: number;
  temporalLayer?: number;
}

/** Camera simulcast: three spatial layers, lowest first. */
const CAMERA_SIMULCAST: RTCRtpEncodingParameters[] = [
  { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

interface LocalSource {
  track: MediaStreamTrack;
  paused: boolean;
}

/**
 * Owns the mediasoup-client Device, both transports, every producer and consumer.
 * Local tracks are kept separately (producers are created with stopTracks:false), so a
 * `media.restart` can rebuild all transports and re-produce the very same tracks.
 */
export class MediaClient {
  device: Device | null = null;
  sendTransport: Transport | null = null;
  recvTransport: Transport | null = null;
  readonly producers = new Map<MediaSource, Producer>();
  readonly consumers = new Map<string, Consumer>();
  /** Local tracks by source; survive transport rebuilds. */
  readonly local = new Map<MediaSource, LocalSource>();
  #generation = 0;
  #preferredLayers = new Map<string, number>();
  #closed = false;
  #recvWaiters: ((transport: Transport | null) => void)[] = [];
  restarts = 0;

  constructor(
    private readonly signaling: Signaling,
    private readonly events: MediaEvents,
  ) {
    signaling.handle('media.newConsumer', async (data) => {
      const generation = this.#generation;
      // media.ready may be answered (and consumers sent) before our createTransport
      // response is handled: wait for the recv transport of this generation.
      const recv = await this.#recvTransportReady();
      if (!recv || generation !== this.#generation) throw new Error('no receive transport');
      const consumer = await recv.consume({
        id: data.id,
        producerId: data.producerId,
        kind: data.kind,
        rtpParameters: fromServer(data.rtpParameters),
        appData: { peerId: data.peerId, source: data.source },
      });
      if (generation !== this.#generation || this.#closed) {
        consumer.close();
        throw new Error('media restarted');
      }
      this.consumers.set(consumer.id, consumer);
      consumer.on('transportclose', () => this.#dropConsumer(consumer.id));
      consumer.on('trackended', () => this.#dropConsumer(consumer.id));
      this.events.consumerAdded({
        id: consumer.id,
        peerId: data.peerId,
        kind: data.kind,
        source: data.source,
        track: consumer.track,
        producerPaused: data.producerPaused,
      });
      return {};
    });
  }

  get canSimulcast(): boolean {
    const codecs = this.device?.rtpCapabilities.codecs ?? [];
    const video = codecs.find((c) => c.kind === 'video');
    return !!video && /vp8|h264/i.test(video.mimeType);
  }

  /**
   * Loads the device, then creates the recv transport, announces `media.ready` and creates
   * the send transport all at once (the server consumes as soon as the recv transport and
   * the capabilities are both there), then re-produces local tracks (after a restart).
   * `onDispatched` runs once those three requests are on the wire.
   */
  async start(routerRtpCapabilities?: RtpCapabilities, onDispatched?: () => void): Promise<void> {
    const generation = ++this.#generation;
    const caps =
      routerRtpCapabilities ??
      (await this.signaling.request('media.getRouterRtpCapabilities', {})).rtpCapabilities;
    if (generation !== this.#generation) return;
    const factory = handlerFactory();
    const device = new Device(factory ? { handlerFactory: factory } : undefined);
    await device.load({ routerRtpCapabilities: fromServer(caps) });
    if (generation !== this.#generation) return;
    this.device = device;
    const send = device.canProduce('audio') || device.canProduce('video');
    const current = (transport: Transport): Transport => {
      if (generation === this.#generation && !this.#closed) return transport;
      transport.close();
      throw new Error('media restarted');
    };
    const recv = this.#createTransport('recv', generation).then((transport) => {
      this.#setRecvTransport(current(transport));
    });
    const ready = this.signaling.request('media.ready', {
      rtpCapabilities: device.rtpCapabilities,
    });
    const sending = send
      ? this.#createTransport('send', generation).then((transport) => {
          this.sendTransport = current(transport);
        })
      : Promise.resolve();
    onDispatched?.();
    // Let every request settle before reporting the first failure.
    const results = await Promise.allSettled([recv, ready, sending]);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    if (generation !== this.#generation) return;
    // Re-produce whatever we had before a restart.
    for (const [source, local] of [...this.local]) {
      if (local.track.readyState === 'live') {
        await this.#produce(source, local.track, local.paused).catch((err: unknown) =>
          this.events.error(`Could not send ${source}: ${describe(err)}`),
        );
      } else {
        this.local.delete(source);
      }
    }
  }

  #setRecvTransport(transport: Transport | null): void {
    this.recvTransport = transport;
    const waiters = this.#recvWaiters;
    this.#recvWaiters = [];
    for (const resolve of waiters) resolve(transport);
  }

  /** The recv transport, waiting for it while start() is creating it. */
  #recvTransportReady(): Promise<Transport | null> {
    if (this.recvTransport) return Promise.resolve(this.recvTransport);
    return new Promise((resolve) => this.#recvWaiters.push(resolve));
  }

  /** Resolves once the recv transport is connected (or failed/closed), at most after timeoutMs. */
  recvConnected(timeoutMs: number): Promise<void> {
    const transport = this.recvTransport;
    if (!transport || transport.closed || transport.connectionState === 'connected')
      return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        transport.off('connectionstatechange', onState);
        resolve();
      };
      const onState = (state: string): void => {
        if (state === 'connected' || state === 'failed' || state === 'closed') done();
      };
      const timer = setTimeout(done, timeoutMs);
      transport.on('connectionstatechange', onState);
    });
  }

  /** Drops transports, producers and consumers (local tracks stay) — then start() again. */
  reset(): void {
    this.#generation++;
    for (const id of [...this.consumers.keys()]) this.#dropConsumer(id);
    for (const [source, producer] of this.producers) {
      producer.close();
      this.events.producerChanged(source, null);
    }
    this.producers.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = null;
    this.#setRecvTransport(null);
    this.#preferredLayers.clear();
  }

  async restart(): Promise<void> {
    this.restarts++;
    this.reset();
    await this.start();
  }

  /** Leaves: closes everything and stops all local tracks. */
  close(): void {
    this.#closed = true;
    this.reset();
    for (const { track } of this.local.values()) track.stop();
    this.local.clear();
  }

  async #createTransport(direction: 'send' | 'recv', generation: number): Promise<Transport> {
    const options: TransportOptions = await this.signaling.request('media.createTransport', {
      direction,
    });
    const device = this.device;
    if (!device || generation !== this.#generation || this.#closed)
      throw new Error('media restarted');
    const params: types.TransportOptions = {
      ...options,
      // Gather local candidates now: ICE can start as soon as the first m-line exists.
      additionalSettings: { iceCandidatePoolSize: 1 },
    };
    const transport =
      direction === 'send'
        ? device.createSendTransport(params)
        : device.createRecvTransport(params);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.signaling
        .request('media.connectTransport', { transportId: transport.id, dtlsParameters })
        .then(() => callback(), errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        this.signaling
          .request('media.produce', {
            transportId: transport.id,
            kind,
            rtpParameters,
            source: appData['source'] as MediaSource,
            paused: appData['paused'] === true,
          })
          .then(({ producerId }) => callback({ id: producerId }), errback);
      });
    }
    let restarting = false;
    let disconnectedTimer: ReturnType<typeof setTimeout> | undefined;
    const restartIce = (): void => {
      if (restarting || transport.closed) return;
      restarting = true;
      this.signaling
        .request('media.restartIce', { transportId: transport.id })
        .then(({ iceParameters }) => transport.restartIce({ iceParameters }))
        .catch((err: unknown) => {
          if (!transport.closed) this.events.error(`ICE restart failed: ${describe(err)}`);
        })
        .finally(() => {
          restarting = false;
        });
    };
    transport.on('connectionstatechange', (state) => {
      clearTimeout(disconnectedTimer);
      if (state === 'failed') restartIce();
      // 'disconnected' often heals by itself; restart ICE if it lasts.
      else if (state === 'disconnected') disconnectedTimer = setTimeout(restartIce, 5000);
    });
    return transport;
  }

  async #produce(source: MediaSource, track: MediaStreamTrack, paused: boolean): Promise<void> {
    const transport = this.sendTransport;
    if (!transport) throw new Error('cannot send media');
    const old = this.producers.get(source);
    if (old) {
      old.close();
      this.producers.delete(source);
    }
    const options: types.ProducerOptions = {
      track,
      stopTracks: false,
      appData: { source, paused },
    };
    if (source === 'camera' && this.canSimulcast) {
      options.encodings = CAMERA_SIMULCAST.map((e) => ({ ...e }));
      options.codecOptions = { videoGoogleStartBitrate: 1000 };
    } else if (source === 'screen') {
      options.encodings = [{ maxBitrate: 2_500_000 }];
    } else if (source === 'mic') {
      options.codecOptions = { opusStereo: false, opusDtx: true, opusFec: true };
    }
    const producer = await transport.produce(options);
    if (paused) producer.pause();
    this.producers.set(source, producer);
    producer.on('transportclose', () => {
      if (this.producers.get(source) === producer) this.producers.delete(source);
    });
    producer.on('trackended', () => {
      void this.stopSource(source);
    });
    this.events.producerChanged(source, { paused, id: producer.id });
  }

  /** Starts sending a new local track for a source (replacing any previous one). */
  async publish(source: MediaSource, track: MediaStreamTrack, paused = false): Promise<void> {
    const previous = this.local.get(source);
    if (previous && previous.track !== track) previous.track.stop();
    this.local.set(source, { track, paused });
    if (!this.sendTransport) return;
    await this.#produce(source, track, paused);
  }

  /** Stops a source completely (track stopped, producer closed on both sides). */
  async stopSource(source: MediaSource): Promise<void> {
    const local = this.local.get(source);
    this.local.delete(source);
    local?.track.stop();
    const producer = this.producers.get(source);
    if (!producer) {
      this.events.producerChanged(source, null);
      return;
    }
    this.producers.delete(source);
    producer.close();
    this.events.producerChanged(source, null);
    await this.signaling
      .request('media.closeProducer', { producerId: producer.id })
      .catch(() => undefined);
  }

  /** Mute/unmute: pause the producer locally and on the server. */
  async setPaused(source: MediaSource, paused: boolean): Promise<void> {
    const local = this.local.get(source);
    if (local) local.paused = paused;
    const producer = this.producers.get(source);
    if (!producer) return;
    if (paused) {
      producer.pause();
      await this.signaling.request('media.pauseProducer', { producerId: producer.id });
    } else {
      producer.resume();
      await this.signaling.request('media.resumeProducer', { producerId: producer.id });
    }
    this.events.producerChanged(source, { paused, id: producer.id });
  }

  /** Swaps the track of a source (device change) without renegotiation. */
  async replaceTrack(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    const local = this.local.get(source);
    if (local && local.track !== track) local.track.stop();
    this.local.set(source, { track, paused: local?.paused ?? false });
    const producer = this.producers.get(source);
    if (producer) await producer.replaceTrack({ track });
    else if (this.sendTransport) await this.#produce(source, track, local?.paused ?? false);
  }

  async pauseConsumer(consumerId: string, paused: boolean): Promise<void> {
    const consumer = this.consumers.get(consumerId);
    if (!consumer || consumer.closed || consumer.paused === paused) return;
    if (paused) consumer.pause();
    else consumer.resume();
    await this.signaling
      .request(paused ? 'media.pauseConsumer' : 'media.resumeConsumer', { consumerId })
      .catch(() => undefined);
  }

  async setPreferredLayers(consumerId: string, spatialLayer: number): Promise<void> {
    if (this.#preferredLayers.get(consumerId) === spatialLayer) return;
    const consumer = this.consumers.get(consumerId);
    if (!consumer || consumer.closed) return;
    this.#preferredLayers.set(consumerId, spatialLayer);
    await this.signaling
      .request('media.setConsumerPreferredLayers', { consumerId, spatialLayer })
      .catch(() => this.#preferredLayers.delete(consumerId));
  }

  /** Called on `media.consumerClosed`. */
  closeConsumer(consumerId: string): void {
    this.#dropConsumer(consumerId);
  }

  #dropConsumer(consumerId: string): void {
    const consumer = this.consumers.get(consumerId);
    if (!consumer) return;
    this.consumers.delete(consumerId);
    this.#preferredLayers.delete(consumerId);
    if (!consumer.closed) consumer.close();
    this.events.consumerRemoved(consumerId);
  }

  /** Inbound bytes per sending peer for a kind (tests check one sender went quiet). */
  async inboundBytesByPeer(kind: 'audio' | 'video'): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const consumer of this.consumers.values()) {
      if (consumer.kind !== kind || consumer.closed) continue;
      const peerId = String(consumer.appData['peerId']);
      const report = await consumer.getStats();
      report.forEach((s: { type?: string; bytesReceived?: number }) => {
        if (s.type === 'inbound-rtp') out[peerId] = (out[peerId] ?? 0) + (s.bytesReceived ?? 0);
      });
    }
    return out;
  }

  /** Sum of inbound-rtp bytes for a kind (tests and the stats panel use it). */
  async inboundBytes(kind: 'audio' | 'video'): Promise<number> {
    const report = await this.recvTransport?.getStats();
    let total = 0;
    report?.forEach((s: { type?: string; kind?: string; bytesReceived?: number }) => {
      if (s.type === 'inbound-rtp' && s.kind === kind) total += s.bytesReceived ?? 0;
    });
    return total;
  }
}

/**
 * The one conversion between the protocol's wire types and mediasoup-client's: the shapes
 * are the same, except that the protocol lists one RTP header extension more than
 * mediasoup-client's types do ('urn:ietf:params:rtp-hdrext:toffset', which mediasoup, the
 * server, knows). mediasoup-client skips extensions the browser does not offer, so the
 * value passes through as it is.
 */
function fromServer(value: RtpCapabilities): types.RtpCapabilities;
function fromServer(value: RtpParameters): types.RtpParameters;
function fromServer(
  value: RtpCapabilities | RtpParameters,
): types.RtpCapabilities | types.RtpParameters {
  return value as types.RtpCapabilities | types.RtpParameters;
}

type HandlerFactory = NonNullable<
  NonNullable<ConstructorParameters<typeof Device>[0]>['handlerFactory']
>;
let cachedFactory: HandlerFactory | null | undefined;

/**
 * The browser's mediasoup-client handler factory with its native RTP capabilities memoized:
 * Device.load() probes them with two throw-away RTCPeerConnections, which
 * `prewarmMedia()` does ahead of time (while the page connects and joins).
 */
function handlerFactory(): HandlerFactory | undefined {
  if (cachedFactory !== undefined) return cachedFactory ?? undefined;
  cachedFactory = null;
  try {
    const probe = new Device() as unknown as { _handlerFactory?: HandlerFactory };
    const inner = probe._handlerFactory;
    if (!inner || typeof inner.getNativeRtpCapabilities !== 'function') return undefined;
    const native = new Map<string, Promise<types.RtpCapabilities>>();
    cachedFactory = {
      ...inner,
      getNativeRtpCapabilities: (options) => {
        let caps = native.get(options.direction);
        if (!caps) {
          caps = inner.getNativeRtpCapabilities(options);
          native.set(options.direction, caps);
          caps.catch(() => native.delete(options.direction));
        }
        return caps;
      },
    };
  } catch {
    // Unsupported browser: Device() throws again in start() with a readable error.
  }
  return cachedFactory ?? undefined;
}

/** Probes the browser's native RTP capabilities in the background (before room.join). */
export function prewarmMedia(): void {
  const factory = handlerFactory();
  if (!factory) return;
  for (const direction of ['recvonly', 'sendonly'] as const) {
    factory.getNativeRtpCapabilities({ direction }).catch(() => undefined);
  }
}

export function describe(err: unknown): string {
  if (err instanceof Error) return err.message.replace(/^[A-Z_]+:\s*/, '');
  return String(err);
}
