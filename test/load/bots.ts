import ndc from 'node-datachannel';
import type { PeerConnection, Track } from 'node-datachannel';
import type {
  DtlsParameters,
  MediaKind,
  MediaSource,
  RtpCapabilities,
  RtpHeaderExtension,
  RtpParameters,
  ServerRequestMap,
  TransportOptions,
} from '@tutti/protocol';
import {
  RtpReceiveStats,
  RtpStream,
  hasKeyframeRequest,
  isRtcp,
  type FixtureTrack,
} from './rtp.ts';
import { dtlsParametersFor, parseLocalSdp, remoteSdp, type RemoteMedia } from './sdp.ts';

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
  /** Server → bot: create the consumer locally; the returned promise answers the request. */
  onNewConsumer(handler: (c: NewConsumer) => Promise<void>): void;
  close(): void;
}

export interface BotOptions {
  name: string;
  /** Local address the bot's ICE binds to (127.0.0.1 for loopback runs). */
  bindAddress: string | undefined;
}

const VIDEO_PT = 96;
const AUDIO_PT = 111;
const RTCP_FB = [
  { type: 'nack' },
  { type: 'nack', parameter: 'pli' },
  { type: 'ccm', parameter: 'fir' },
];

/**
 * RTP header extensions the subscriber bots announce. 'none' keeps the worker from
 * running send-side bandwidth estimation; 'transport-cc' adds it as a browser would (the
 * worker then probes with padding, which costs it roughly twice the CPU per consumer).
 */
export type HeaderExtProfile = 'none' | 'transport-cc';

export function botRtpCapabilities(profile: HeaderExtProfile): RtpCapabilities {
  const headerExtensions: RtpHeaderExtension[] = [];
  if (profile === 'transport-cc') {
    headerExtensions.push(
      {
        kind: 'video',
        uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
        preferredId: 5,
        direction: 'sendrecv',
      },
      {
        kind: 'audio',
        uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
        preferredId: 5,
        direction: 'sendrecv',
      },
    );
  }
  return {
    codecs: [
      {
        kind: 'audio',
        mimeType: 'audio/opus',
        preferredPayloadType: 100,
        clockRate: 48000,
        channels: 2,
        parameters: {},
        rtcpFeedback: profile === 'transport-cc' ? [{ type: 'transport-cc' }] : [],
      },
      {
        kind: 'video',
        mimeType: 'video/VP8',
        preferredPayloadType: 101,
        clockRate: 90000,
        parameters: {},
        rtcpFeedback:
          profile === 'transport-cc' ? [...RTCP_FB, { type: 'transport-cc' }] : [...RTCP_FB],
      },
    ],
    headerExtensions,
  };
}

function newPeerConnection(opts: BotOptions): PeerConnection {
  return new ndc.PeerConnection(opts.name, {
    iceServers: [],
    ...(opts.bindAddress ? { bindAddress: opts.bindAddress } : {}),
    enableIceTcp: false,
    disableAutoNegotiation: true,
  });
}

function localSdp(pc: PeerConnection): string {
  const d = pc.localDescription();
  if (!d) throw new Error('no local description');
  return d.sdp;
}

function waitOpen(track: Track, timeoutMs: number): Promise<void> {
  if (track.isOpen()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('track did not open (ICE/DTLS)')), timeoutMs);
    track.onOpen(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** All publishers share one pacing timer (a few ms) so a thousand streams cost one timer. */
class Pacer {
  private readonly streams = new Set<{ stream: RtpStream; track: Track; startedAt: number }>();
  private timer: NodeJS.Timeout | undefined;
  sendErrors = 0;

  add(stream: RtpStream, track: Track): () => void {
    const entry = { stream, track, startedAt: performance.now() };
    this.streams.add(entry);
    this.timer ??= setInterval(() => this.tick(), 5);
    return () => {
      this.streams.delete(entry);
      if (this.streams.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private tick(): void {
    const now = performance.now();
    for (const e of this.streams) {
      e.stream.pump(now - e.startedAt, (pkt) => {
        try {
          if (!e.track.sendMessageBinary(pkt)) this.sendErrors++;
        } catch {
          this.sendErrors++;
        }
      });
    }
  }
}
export const pacer = new Pacer();

export class PublisherBot {
  private pc: PeerConnection | undefined;
  private readonly stops: (() => void)[] = [];
  readonly streams: RtpStream[] = [];
  producerIds: string[] = [];
  keyframeRequests = 0;
  readonly sig: BotSignaling;
  private readonly opts: BotOptions;
  private readonly media: { video: FixtureTrack | undefined; audio: FixtureTrack | undefined };
  private readonly videoSource: MediaSource;

  constructor(
    sig: BotSignaling,
    media: { video: FixtureTrack | undefined; audio: FixtureTrack | undefined },
    opts: BotOptions,
    videoSource: MediaSource = 'camera',
  ) {
    this.sig = sig;
    this.media = media;
    this.opts = opts;
    this.videoSource = videoSource;
  }

  async start(timeoutMs = 15_000): Promise<void> {
    const transport = await this.sig.createTransport('send');
    const pc = newPeerConnection(this.opts);
    this.pc = pc;
    const cname = `bot-${Math.random().toString(36).slice(2, 10)}`;
    const plan: {
      kind: MediaKind;
      mid: string;
      fixture: FixtureTrack;
      ssrc: number;
      pt: number;
      track: Track;
    }[] = [];
    let mid = 0;
    if (this.media.video) {
      const ssrc = randomSsrc();
      const v = new ndc.Video(String(mid), 'SendOnly');
      v.addVP8Codec(VIDEO_PT);
      v.addSSRC(ssrc, cname, cname, `${cname}-video`);
      plan.push({
        kind: 'video',
        mid: String(mid++),
        fixture: this.media.video,
        ssrc,
        pt: VIDEO_PT,
        track: pc.addTrack(v),
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
        fixture: this.media.audio,
        ssrc,
        pt: AUDIO_PT,
        track: pc.addTrack(a),
      });
    }
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
      rtpParameters: rtpParametersFor(p.kind, p.mid, p.pt, p.ssrc, cname),
    }));
    pc.setRemoteDescription(remoteSdp(transport, media, { type: 'answer', version: 1 }), 'answer');
    for (const p of plan) {
      const producerId = await this.sig.produce({
        transportId: transport.id,
        kind: p.kind,
        rtpParameters: rtpParametersFor(p.kind, p.mid, p.pt, p.ssrc, cname),
        source: p.kind === 'video' ? this.videoSource : 'mic',
      });
      this.producerIds.push(producerId);
    }
    await Promise.all(plan.map((p) => waitOpen(p.track, timeoutMs)));
    for (const p of plan) {
      const stream = new RtpStream(p.fixture, p.ssrc, p.pt);
      this.streams.push(stream);
      // Key frame requests (PLI/FIR) from the SFU: answer as an encoder would.
      p.track.onMessage((msg) => {
        if (isRtcp(msg) && hasKeyframeRequest(msg)) {
          this.keyframeRequests++;
          stream.requestKeyframe();
        }
      });
      this.stops.push(pacer.add(stream, p.track));
    }
  }

  close(): void {
    for (const stop of this.stops.splice(0)) stop();
    try {
      this.pc?.close();
    } catch {
      /* already closed */
    }
    this.sig.close();
  }
}

function rtpParametersFor(
  kind: MediaKind,
  mid: string,
  pt: number,
  ssrc: number,
  cname: string,
): RtpParameters {
  return {
    mid,
    codecs: [
      kind === 'video'
        ? {
            mimeType: 'video/VP8',
            payloadType: pt,
            clockRate: 90000,
            parameters: {},
            rtcpFeedback: [...RTCP_FB],
          }
        : {
            mimeType: 'audio/opus',
            payloadType: pt,
            clockRate: 48000,
            channels: 2,
            parameters: { useinbandfec: 1 },
            rtcpFeedback: [],
          },
    ],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname, reducedSize: true },
  };
}

function randomSsrc(): number {
  return 1 + Math.floor(Math.random() * 0xfffffff0);
}

export interface StreamStats {
  kind: MediaKind;
  stats: RtpReceiveStats;
  /** When the bot learned of the consumer (performance.now()). */
  announcedAt: number;
}

export class SubscriberBot {
  private pc: PeerConnection | undefined;
  private transport: TransportOptions | undefined;
  private readonly consumers: NewConsumer[] = [];
  /** Stats by mid. */
  readonly streams = new Map<string, StreamStats>();
  private connected = false;
  private version = 0;
  private negotiation: Promise<void> = Promise.resolve();
  private pendingBatch: { promise: Promise<void> } | undefined;
  /** performance.now() when start() began; time to first packet is measured from here. */
  startedAt = 0;
  readonly sig: BotSignaling;
  private readonly opts: BotOptions;
  private readonly profile: HeaderExtProfile;
  private readonly tracks: Track[] = [];

  constructor(sig: BotSignaling, opts: BotOptions, profile: HeaderExtProfile) {
    this.sig = sig;
    this.opts = opts;
    this.profile = profile;
  }

  async start(startedAt = performance.now()): Promise<void> {
    this.startedAt = startedAt;
    this.transport = await this.sig.createTransport('recv');
    const pc = newPeerConnection(this.opts);
    this.pc = pc;
    pc.onTrack((track) => {
      this.tracks.push(track);
      const mid = track.mid();
      track.onMessage((msg) => {
        if (isRtcp(msg)) return;
        this.streams.get(mid)?.stats.onPacket(msg, performance.now());
      });
    });
    this.sig.onNewConsumer((c) => this.addConsumer(c));
    await this.sig.ready(botRtpCapabilities(this.profile));
  }

  /** Batches consumers that arrive together into one renegotiation. */
  private addConsumer(c: NewConsumer): Promise<void> {
    this.consumers.push(c);
    const mid = c.rtpParameters.mid ?? String(this.consumers.length - 1);
    this.streams.set(mid, {
      kind: c.kind,
      stats: new RtpReceiveStats(),
      announcedAt: performance.now(),
    });
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
    pc.setLocalDescription('answer');
    if (!this.connected) {
      this.connected = true;
      const local = parseLocalSdp(localSdp(pc));
      await this.sig.connectTransport(transport.id, dtlsParametersFor(local, 'client'));
    }
  }

  close(): void {
    try {
      this.pc?.close();
    } catch {
      /* already closed */
    }
    this.sig.close();
  }
}
