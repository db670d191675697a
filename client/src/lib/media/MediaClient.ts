import type { Device } from 'mediasoup-client';
import type {
  IceSettings,
  JoinDtlsParameters,
  JoinMedia,
  MediaSource,
  RtpCapabilities,
} from '@tutti/protocol';
import type { E2ee } from '../e2ee/E2ee.ts';
import type { Signaling } from '../signaling.ts';
import { Consumers } from './consumers.ts';
import { e2eeCodecsOnly, loadDevice } from './device.ts';
import { FirstFrame } from './firstFrame.ts';
import { untilChecking, untilConnected, type IceWatchEvents } from './ice.ts';
import { canSimulcast, Producers } from './producers.ts';
import { buildTransport, openTransport } from './transports.ts';
import type { Consumer, LocalSource, MediaEvents, Producer, Transport } from './types.ts';

/** What a one-reply join brings to start(): see session/shortJoin.ts. */
export interface FromJoin {
  device: Device;
  media: JoinMedia | undefined;
  /** The certificate made ahead and the parameters room.join sent (null: none sent). */
  dtls?: { certificate: RTCCertificate; parameters: JoinDtlsParameters } | null;
  /** Render the room view before the consumers are set up (bench:join compares). */
  renderFirst?: boolean;
}

/** How often transports whose ICE never started are rebuilt before giving up. */
const MAX_STALL_REBUILDS = 2;

/** How long a one-reply join's send side waits for the first remote frame on screen. */
const SEND_AFTER_FRAME_MS = 300;

/**
 * Owns the mediasoup-client Device, both transports, every producer and consumer.
 * Local tracks are kept separately (producers are created with stopTracks:false), so a
 * `media.restart` can rebuild all transports and re-produce the very same tracks.
 * Sending is `Producers`' (producers.ts), receiving `Consumers`' (consumers.ts); this
 * class runs the lifecycle: start, reset, restart, close.
 */
export class MediaClient {
  device: Device | null = null;
  sendTransport: Transport | null = null;
  recvTransport: Transport | null = null;
  readonly producers: Map<MediaSource, Producer>;
  readonly consumers: Map<string, Consumer>;
  /** Local tracks by source; survive transport rebuilds. */
  readonly local: Map<MediaSource, LocalSource>;
  readonly #producers: Producers;
  readonly #consumers: Consumers;
  #generation = 0;
  #closed = false;
  #recvWaiters: ((transport: Transport | null) => void)[] = [];
  #stallRebuilds = 0;
  restarts = 0;
  /** ICE servers and policy for new transports: from the latest room.join answer. */
  ice: IceSettings = { iceServers: [], iceTransportPolicy: 'all' };
  /** Set before start() in an end-to-end encrypted room (VP8 and Opus only, every frame sealed). */
  e2ee: E2ee | null = null;
  /** A remote tile showed a frame (the tiles report it through ConsumerActions). */
  readonly firstFrame = new FirstFrame();
  /** The transports' ICE watch reports; a stalled one of this generation asks for a rebuild. */
  readonly #iceEvents: IceWatchEvents;

  constructor(
    private readonly signaling: Signaling,
    private readonly events: MediaEvents,
  ) {
    this.#consumers = new Consumers(signaling, events, {
      generation: () => this.#generation,
      closed: () => this.#closed,
      recvTransportReady: () => this.#recvTransportReady(),
      e2ee: () => this.e2ee,
    });
    this.#producers = new Producers(signaling, events, this);
    this.producers = this.#producers.bySource;
    this.consumers = this.#consumers.byId;
    this.local = this.#producers.local;
    this.#iceEvents = {
      error: (message) => events.error(message),
      stalled: () => {
        if (this.#closed) return;
        // A few rebuilds at most: with relay-only ICE and a TURN server that refuses us,
        // ICE never starts on any PeerConnection.
        if (this.#stallRebuilds++ < MAX_STALL_REBUILDS) events.stalled();
        else events.error('Media could not connect: ICE never started');
      },
    };
  }

  get canSimulcast(): boolean {
    return canSimulcast(this.device);
  }

  /**
   * Loads the device, then creates the recv transport, announces `media.ready` and creates
   * the send transport all at once (the server consumes as soon as the recv transport and
   * the capabilities are both there), then re-produces local tracks (after a restart).
   * `onDispatched` runs once those three requests are on the wire.
   */
  async start(
    routerRtpCapabilities?: RtpCapabilities,
    onDispatched?: () => void,
    fromJoin?: FromJoin,
  ): Promise<void> {
    const generation = ++this.#generation;
    const media = fromJoin?.media;
    if (fromJoin && media?.recv && media.consumers) {
      const ready = { ...media, recv: media.recv };
      await this.#startFromJoin(generation, fromJoin, ready, onDispatched);
      return;
    }
    const caps =
      routerRtpCapabilities ??
      (await this.signaling.request('media.getRouterRtpCapabilities', {})).rtpCapabilities;
    if (generation !== this.#generation) return;
    const device = await loadDevice(this.e2ee ? e2eeCodecsOnly(caps) : caps);
    if (generation !== this.#generation) return;
    this.device = device;
    const send = device.canProduce('audio') || device.canProduce('video');
    const isCurrent = (): boolean => generation === this.#generation && !this.#closed;
    const open = (direction: 'send' | 'recv'): Promise<Transport> =>
      openTransport(this.signaling, device, direction, this.ice, isCurrent, this.#iceEvents);
    const current = (transport: Transport): Transport => {
      if (isCurrent()) return transport;
      transport.close();
      throw new Error('media restarted');
    };
    const recv = open('recv').then((transport) => {
      this.#setRecvTransport(current(transport));
    });
    const ready = this.signaling.request('media.ready', {
      rtpCapabilities: device.rtpCapabilities,
    });
    const sending = send
      ? open('send').then((transport) => {
          this.sendTransport = current(transport);
        })
      : Promise.resolve();
    onDispatched?.();
    // Let every request settle before reporting the first failure.
    const results = await Promise.allSettled([recv, ready, sending]);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    if (generation !== this.#generation) return;
    // Re-produce whatever we had before a restart.
    await this.#producers.reproduce();
  }

  /**
   * The one-reply join: `device` was loaded before room.join (with the lobby's router
   * capabilities) and the answer brought the transports and the consumers of what the
   * others already send; with `dtls` the server also connected the transports with our
   * certificate's fingerprint — no request at all before ICE + DTLS.
   */
  async #startFromJoin(
    generation: number,
    { device, dtls, renderFirst }: FromJoin,
    media: JoinMedia & { recv: NonNullable<JoinMedia['recv']> },
    onDispatched?: () => void,
  ): Promise<void> {
    this.device = device;
    const build = (direction: 'send' | 'recv', options: NonNullable<JoinMedia['recv']>) =>
      buildTransport(
        this.signaling,
        device,
        direction,
        options,
        this.ice,
        this.#iceEvents,
        dtls
          ? {
              certificate: dtls.certificate,
              connected: media.connected?.includes(direction) ? dtls.parameters : null,
            }
          : undefined,
      );
    this.#setRecvTransport(build('recv', media.recv));
    // The room view renders once the consumers are set up on the PeerConnection (ICE under
    // way), unless bench:join asks for the other order (docs/benchmarks.md measures both).
    if (renderFirst) onDispatched?.();
    await this.#consumers.consumeAll(media.consumers ?? []);
    // The recv side's ICE start gets the main thread first: Chromium's port allocator
    // needs two main-thread hops after SLD (the media-permission answer, then a DevTools
    // throttling token) before it opens a socket, ~25 ms when idle; behind the render they
    // came 60-110 ms after SLD (docs/benchmarks.md; ≤ 60 ms here). Then the room view's first
    // render, its stage only (views/Room.svelte), and the send transport's PeerConnection
    // (tens of ms of main thread, and a gathering of its own) once the recv side's ICE
    // checks are under way: nothing is produced before the recv transport connects anyway
    // (RoomSession, receive first).
    if (media.consumers?.length) await untilChecking(this.recvTransport, 60);
    if (!renderFirst) onDispatched?.();
    await untilChecking(this.recvTransport, 150);
    // ... and after the first remote frame's paint (≤ 300 ms): the send PeerConnection's
    // tens of ms of main thread fell between the stage's render and that paint.
    if (media.consumers?.length) await this.firstFrame.waitThenTask(SEND_AFTER_FRAME_MS);
    const current = generation === this.#generation && !this.#closed;
    if (current && media.send && (device.canProduce('audio') || device.canProduce('video')))
      this.sendTransport = build('send', media.send);
    if (generation !== this.#generation) return;
    await this.#producers.reproduce();
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
    return untilConnected(this.recvTransport, timeoutMs);
  }

  /** Drops transports, producers and consumers (local tracks stay) — then start() again. */
  reset(): void {
    this.#generation++;
    this.#consumers.dropAll();
    this.#producers.closeAll();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = null;
    this.#setRecvTransport(null);
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
    this.#producers.stopLocal();
  }

  /** Starts sending a new local track for a source (replacing any previous one). */
  publish(source: MediaSource, track: MediaStreamTrack, paused = false): Promise<void> {
    return this.#producers.publish(source, track, paused);
  }

  /** Stops a source completely (track stopped, producer closed on both sides). */
  stopSource(source: MediaSource): Promise<void> {
    return this.#producers.stopSource(source);
  }

  /** Mute/unmute: pause the producer locally and on the server. */
  setPaused(source: MediaSource, paused: boolean): Promise<void> {
    return this.#producers.setPaused(source, paused);
  }

  /** Swaps the track of a source (device change) without renegotiation. */
  replaceTrack(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    return this.#producers.replaceTrack(source, track);
  }

  pauseConsumer(consumerId: string, paused: boolean): Promise<void> {
    return this.#consumers.pause(consumerId, paused);
  }

  setPreferredLayers(consumerId: string, spatialLayer: number): Promise<void> {
    return this.#consumers.setPreferredLayers(consumerId, spatialLayer);
  }

  /** Called on `media.consumerClosed`. */
  closeConsumer(consumerId: string): void {
    this.#consumers.drop(consumerId);
  }

  /** Inbound bytes per sending peer for a kind (tests check one sender went quiet). */
  inboundBytesByPeer(kind: 'audio' | 'video'): Promise<Record<string, number>> {
    return this.#consumers.inboundBytesByPeer(kind);
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
