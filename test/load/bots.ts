import ndc from 'node-datachannel';
import type { PeerConnection, Track } from 'node-datachannel';
import type {
  DtlsParameters,
  MediaKind,
  MediaSource,
  RtpCapabilities,
  RtpParameters,
  ServerRequestMap,
  TransportOptions,
} from '@tutti/protocol';
import {
  RtpReceiveStats,
  RtpStream,
  hasKeyframeRequest,
  isRtcp,
  keyframeRequestSsrc,
  type FixtureTrack,
} from './rtp.ts';
import { releaseCallbacks } from './ndcRelease.ts';
import { pacer } from './pacer.ts';
import { ChromeFeedback, feedbackTicker, type FeedbackMode } from './feedback.ts';
import { TCC_URI } from './rtcp.ts';
import { dtlsParametersFor, parseLocalSdp, remoteSdp, type RemoteMedia } from './sdp.ts';
import {
  botRtpCapabilities,
  publisherRtpParameters,
  type HeaderExtProfile,
  type LoadProfile,
} from './profile.ts';

export { botRtpCapabilities, type HeaderExtProfile, type LoadProfile } from './profile.ts';
export { pacer } from './pacer.ts';

/**
 * Publisher and subscriber bots: real WebRTC (ICE + DTLS + SRTP, libdatachannel through
 * node-datachannel) without any codec. Publishers send the pre-packetized fixture;
 * subscribers only count packets, bytes, sequence gaps and time to first packet.
 */

export type NewConsumer = ServerRequestMap['media.newConsumer']['request'];

/** What a bot needs from a server; Tutti's protoo protocol or a bare in-process mediasoup. */
export interface BotSignaling {
  createTransport(direction: 'send' | 'recv'): Promise<TransportOptions>;
  connectTransport(transportId: string, dtlsParameters: DtlsParameters): Promise<void>;
  produce(req: {
    transportId: string;
    kind: MediaKind;
    rtpParameters: RtpParameters;
    source: MediaSource;
  }): Promise<string>;
  ready(rtpCapabilities: RtpCapabilities): Promise<void>;
  /** A tile's choice of simulcast layer for one consumer. */
  setPreferredLayers(consumerId: string, spatialLayer: number): Promise<void>;
  /** Server → bot: create the consumer locally; the returned promise answers the request. */
  onNewConsumer(handler: (c: NewConsumer) => Promise<void>): void;
  close(): void;
}

export interface BotOptions {
  name: string;
  /** Local address the bot's ICE binds to (127.0.0.1 for loopback runs). */
  bindAddress: string | undefined;
  /** A DTLS certificate made ahead (PEM files), so its fingerprint is known before a join. */
  certificate?: { certificatePemFile: string; keyPemFile: string };
}

const VIDEO_PT = 96;
const AUDIO_PT = 111;
function newPeerConnection(opts: BotOptions): PeerConnection {
  return new ndc.PeerConnection(opts.name, {
    iceServers: [],
    ...(opts.bindAddress ? { bindAddress: opts.bindAddress } : {}),
    ...opts.certificate,
    enableIceTcp: false,
    disableAutoNegotiation: true,
  });
}

function localSdp(pc: PeerConnection): string {
  const d = pc.localDescription();
  if (!d) throw new Error('no local description');
  return d.sdp;
}

export function waitOpen(track: Track, timeoutMs: number): Promise<void> {
  if (track.isOpen()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('track did not open (ICE/DTLS)')), timeoutMs);
    track.onOpen(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A publisher's fixtures; `simulcast` (low to high) replaces `video` by three layers. */
export interface PublisherMedia {
  video: FixtureTrack | undefined;
  audio: FixtureTrack | undefined;
  simulcast?: FixtureTrack[];
}

export class PublisherBot {
  private pc: PeerConnection | undefined;
  private readonly stops: (() => void)[] = [];
  private readonly tracks: Track[] = [];
  readonly streams: RtpStream[] = [];
  producerIds: string[] = [];
  keyframeRequests = 0;
  readonly sig: BotSignaling;
  private readonly opts: BotOptions;
  private readonly media: PublisherMedia;
  private readonly videoSource: MediaSource;

  constructor(
    sig: BotSignaling,
    media: PublisherMedia,
    opts: BotOptions,
    videoSource: MediaSource = 'camera',
  ) {
    this.sig = sig;
    this.media = media;
    this.opts = opts;
    this.videoSource = videoSource;
  }

  private track(t: Track): Track {
    this.tracks.push(t);
    return t;
  }

  async start(timeoutMs = 15_000): Promise<void> {
    const transport = await this.sig.createTransport('send');
    const pc = newPeerConnection(this.opts);
    this.pc = pc;
    const cname = `bot-${Math.random().toString(36).slice(2, 10)}`;
    const plan: {
      kind: MediaKind;
      mid: string;
      /** One fixture and SSRC per simulcast layer (one for audio and plain video). */
      layers: { fixture: FixtureTrack; ssrc: number }[];
      pt: number;
      track: Track;
    }[] = [];
    let mid = 0;
    const videoLayers = this.media.simulcast ?? (this.media.video ? [this.media.video] : []);
    if (videoLayers.length > 0) {
      const layers = videoLayers.map((fixture) => ({ fixture, ssrc: randomSsrc() }));
      const v = new ndc.Video(String(mid), 'SendOnly');
      v.addVP8Codec(VIDEO_PT);
      for (const l of layers) v.addSSRC(l.ssrc, cname, cname, `${cname}-video`);
      plan.push({
        kind: 'video',
        mid: String(mid++),
        layers,
        pt: VIDEO_PT,
        track: this.track(pc.addTrack(v)),
      });
    }
    if (this.media.audio) {
      const ssrc = randomSsrc();
      const a = new ndc.Audio(String(mid), 'SendOnly');
      a.addOpusCodec(AUDIO_PT);
      a.addSSRC(ssrc, cname, cname, `${cname}-audio`);
      plan.push({
        kind: 'audio',
        mid: String(mid),
        layers: [{ fixture: this.media.audio, ssrc }],
        pt: AUDIO_PT,
        track: this.track(pc.addTrack(a)),
      });
    }
    const ssrcsOf = (p: (typeof plan)[number]): number[] => p.layers.map((l) => l.ssrc);
    pc.setLocalDescription('offer');
    const local = parseLocalSdp(localSdp(pc));
    // Our offer says actpass and the answer below says passive: we are the DTLS client.
    await this.sig.connectTransport(
      transport.id,
      dtlsParametersFor({ ...local, setup: 'active' }, 'client'),
    );
    const media: RemoteMedia[] = plan.map((p) => ({
      mid: p.mid,
      kind: p.kind,
      direction: 'recvonly',
      rtpParameters: publisherRtpParameters(p.kind, p.mid, p.pt, ssrcsOf(p), cname),
    }));
    pc.setRemoteDescription(remoteSdp(transport, media, { type: 'answer', version: 1 }), 'answer');
    for (const p of plan) {
      const producerId = await this.sig.produce({
        transportId: transport.id,
        kind: p.kind,
        rtpParameters: publisherRtpParameters(p.kind, p.mid, p.pt, ssrcsOf(p), cname),
        source: p.kind === 'video' ? this.videoSource : 'mic',
      });
      this.producerIds.push(producerId);
    }
    await Promise.all(plan.map((p) => waitOpen(p.track, timeoutMs)));
    for (const p of plan) {
      const streams = p.layers.map((l) => new RtpStream(l.fixture, l.ssrc, p.pt));
      this.streams.push(...streams);
      // Key frame requests (PLI/FIR) from the SFU: answer as an encoder would (for a
      // simulcast track, the layer whose SSRC the request names).
      p.track.onMessage((msg) => {
        if (!isRtcp(msg) || !hasKeyframeRequest(msg)) return;
        this.keyframeRequests++;
        const target = streams.length > 1 ? keyframeRequestSsrc(msg) : undefined;
        for (const s of streams) if (target === undefined || s.ssrc === target) s.requestKeyframe();
      });
      for (const stream of streams) this.stops.push(pacer.add(stream, p.track));
    }
  }

  close(): void {
    for (const stop of this.stops.splice(0)) stop();
    releaseCallbacks(this.pc, this.tracks);
    try {
      this.pc?.close();
    } catch {
      /* already closed */
    }
    this.sig.close();
  }
}

const randomSsrc = (): number => 1 + Math.floor(Math.random() * 0xfffffff0);

export interface StreamStats {
  kind: MediaKind;
  stats: RtpReceiveStats;
  /** When the bot learned of the consumer (performance.now()). */
  announcedAt: number;
  /** The consumer's media SSRC: RTX retransmissions (another SSRC) are not counted. */
  ssrc?: number;
}

export class SubscriberBot {
  private pc: PeerConnection | undefined;
  private transport: TransportOptions | undefined;
  private readonly consumers: NewConsumer[] = [];
  /** Stats by mid. */
  readonly streams = new Map<string, StreamStats>();
  private connected = false;
  private closed = false;
  private version = 0;
  private negotiation: Promise<void> = Promise.resolve();
  private pendingBatch: { promise: Promise<void> } | undefined;
  /** performance.now() when start() began; time to first packet is measured from here. */
  startedAt = 0;
  readonly sig: BotSignaling;
  private readonly opts: BotOptions;
  private readonly profile: HeaderExtProfile;
  private readonly load: LoadProfile;
  /** Spatial layer this subscriber's tiles ask for (chrome profile). */
  private readonly layer: number | undefined;
  private readonly tracks: Track[] = [];
  /** Chrome-like RTCP feedback (transport-cc, RR, NACK); chrome profile, unless turned off. */
  readonly feedback: ChromeFeedback | undefined;
  private stopFeedback: (() => void) | undefined;

  constructor(
    sig: BotSignaling,
    opts: BotOptions,
    profile: HeaderExtProfile,
    load: { profile: LoadProfile; layer?: number; feedback?: FeedbackMode } = { profile: 'light' },
  ) {
    this.sig = sig;
    this.opts = opts;
    this.profile = profile;
    this.load = load.profile;
    this.layer = load.layer;
    const fb = load.feedback ?? (load.profile === 'chrome' ? 'chrome' : 'none');
    if (fb === 'chrome') this.feedback = new ChromeFeedback((p) => this.sendRtcp(p));
  }

  /** RTCP out on any open track: one DTLS-SRTP transport (BUNDLE), encrypted as SRTCP. */
  sendRtcp(packet: Buffer): boolean {
    for (const t of this.tracks) if (t.isOpen()) return t.sendMessageBinary(packet);
    return false;
  }

  /**
   * `fromJoin`: the one-reply join's answer (recv transport, consumers resumed on the server;
   * `connected`: with this bot's certificate): no createTransport, media.ready, connect.
   */
  async start(
    startedAt = performance.now(),
    fromJoin?: { transport: TransportOptions; consumers: NewConsumer[]; connected?: boolean },
  ): Promise<void> {
    this.startedAt = startedAt;
    this.connected = fromJoin?.connected ?? false;
    this.transport = fromJoin?.transport ?? (await this.sig.createTransport('recv'));
    const pc = newPeerConnection(this.opts);
    this.pc = pc;
    pc.onTrack((track) => {
      this.tracks.push(track);
      const mid = track.mid();
      const fb = this.feedback;
      track.onMessage((msg) => {
        if (isRtcp(msg)) return fb?.onRtcp(msg, performance.now());
        if (msg.length < 12) return;
        fb?.onRtp(msg, performance.now());
        const s = this.streams.get(mid);
        if (s && (s.ssrc === undefined || s.ssrc === msg.readUInt32BE(8)))
          s.stats.onPacket(msg, performance.now());
      });
    });
    const take = async (c: NewConsumer): Promise<void> => {
      await this.addConsumer(c);
      const layer = this.layer;
      if (layer !== undefined && c.kind === 'video' && c.type === 'simulcast') {
        // After the answer, as a tile sized once the track arrives would ask.
        void this.sig.setPreferredLayers(c.id, layer).catch(() => undefined);
      }
    };
    this.sig.onNewConsumer(take);
    if (this.feedback) this.stopFeedback = feedbackTicker.add(this.feedback);
    if (fromJoin) await Promise.all(fromJoin.consumers.map(take));
    else await this.sig.ready(this.rtpCapabilities);
  }

  /** What this bot announces (media.ready, or the one-reply join's `media`). */
  get rtpCapabilities(): RtpCapabilities {
    return botRtpCapabilities(this.profile, this.load);
  }

  /** Batches consumers that arrive together into one renegotiation. */
  private addConsumer(c: NewConsumer): Promise<void> {
    this.consumers.push(c);
    const mid = c.rtpParameters.mid ?? String(this.consumers.length - 1);
    this.streams.set(mid, {
      kind: c.kind,
      stats: new RtpReceiveStats(),
      announcedAt: performance.now(),
      ssrc: c.rtpParameters.encodings?.[0]?.ssrc,
    });
    const enc = c.rtpParameters.encodings?.[0];
    if (this.feedback && enc?.ssrc !== undefined) {
      const tcc = c.rtpParameters.headerExtensions?.find((e) => e.uri === TCC_URI);
      this.feedback.tccExtId ??= tcc?.id;
      const codec = c.rtpParameters.codecs[0]!;
      this.feedback.addStream(enc.ssrc, codec.clockRate, {
        nack: codec.rtcpFeedback?.some((f) => f.type === 'nack' && !f.parameter) ?? false,
        ...(enc.rtx?.ssrc !== undefined ? { rtxSsrc: enc.rtx.ssrc } : {}),
      });
    }
    if (this.pendingBatch) return this.pendingBatch.promise;
    const promise = new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        this.pendingBatch = undefined;
        this.negotiation = this.negotiation.then(() => this.negotiate()).then(resolve, reject);
      }, 5);
    });
    this.pendingBatch = { promise };
    return promise;
  }

  private async negotiate(): Promise<void> {
    const pc = this.pc;
    const transport = this.transport;
    if (!pc || !transport) throw new Error('subscriber not started');
    if (this.closed) return; // Left while the batch waited: the PeerConnection is gone.
    const media: RemoteMedia[] = this.consumers.map((c, i) => ({
      mid: c.rtpParameters.mid ?? String(i),
      kind: c.kind,
      direction: 'sendonly',
      rtpParameters: c.rtpParameters,
    }));
    pc.setRemoteDescription(
      remoteSdp(transport, media, { type: 'offer', version: ++this.version }),
      'offer',
    );
    // libdatachannel aborts the process (a C++ logic_error) on an answer in state stable.
    if (pc.signalingState() !== 'have-remote-offer') return;
    pc.setLocalDescription('answer');
    if (!this.connected) {
      this.connected = true;
      const local = parseLocalSdp(localSdp(pc));
      await this.sig.connectTransport(transport.id, dtlsParametersFor(local, 'client'));
    }
  }

  close(): void {
    this.closed = true;
    this.stopFeedback?.();
    releaseCallbacks(this.pc, this.tracks);
    try {
      this.pc?.close();
    } catch {
      /* already closed */
    }
    this.sig.close();
  }
}
