import type {
  DtlsParameters,
  MediaKind,
  MediaSource,
  RtpCapabilities,
  RtpParameters,
  TransportOptions,
} from '@tutti/protocol';
import type { HeaderExtProfile, LoadProfile, NewConsumer } from './bots.ts';
import type { FeedbackMode } from './feedback.ts';

/**
 * Messages between a controller (the load CLI or a benchmark) and the bot process it
 * forks. In "bare" mode the bots' signaling also travels on this channel to the
 * controller, which drives mediasoup directly (no Fastify, no protoo).
 */

export interface BareRequestMap {
  join: { req: { room: string }; res: Record<string, never> };
  createTransport: { req: { direction: 'send' | 'recv' }; res: TransportOptions };
  connectTransport: {
    req: { transportId: string; dtlsParameters: DtlsParameters };
    res: Record<string, never>;
  };
  produce: {
    req: {
      transportId: string;
      kind: MediaKind;
      rtpParameters: RtpParameters;
      source: MediaSource;
    };
    res: { producerId: string };
  };
  ready: { req: { rtpCapabilities: RtpCapabilities }; res: Record<string, never> };
  setPreferredLayers: {
    req: { consumerId: string; spatialLayer: number };
    res: Record<string, never>;
  };
  leave: { req: Record<string, never>; res: Record<string, never> };
}
export type BareMethod = keyof BareRequestMap;

export interface SpawnSpec {
  room: string;
  publishers: number;
  subscribers: number;
  /** Media each publisher sends. */
  media: 'av' | 'video' | 'audio';
  videoSource?: MediaSource;
  /** Subscribers started at once (each one is a WebSocket + PeerConnection). */
  concurrency?: number;
  /** Tutti cluster: the subscribers join through these nodes in turn (default: the init url). */
  urls?: string[];
}

export interface BotInit {
  mode: 'tutti' | 'bare';
  /** Tutti: the server's base URL (http(s):// or ws(s)://); the bots use <url>/ws. */
  url?: string;
  bindAddress?: string;
  headerExt: HeaderExtProfile;
  /** light (default): one VP8 stream, `headerExt` offered; chrome: see test/load/profile.ts. */
  profile?: LoadProfile;
  /** Subscribers' RTCP feedback (test/load/feedback.ts); default chrome for the chrome profile. */
  feedback?: FeedbackMode;
}

export interface BotStats {
  at: number;
  publishers: number;
  subscribers: number;
  failed: number;
  /** Consumers (streams) the subscribers were told about, and how many ever got a packet. */
  streams: number;
  streamsFlowing: number;
  /** Totals since start (the controller takes deltas per window). */
  packets: number;
  bytes: number;
  expected: number;
  sentPackets: number;
  sentBytes: number;
  sendErrors: number;
  /** Streams older than the settle time that got no packet since the previous stats call. */
  stalled: number;
  /** Time from a subscriber's start to its first packet of each kind, ms (new ones since last call). */
  firstPacketMs: { video: number[]; audio: number[] };
  cpuUserMs: number;
  cpuSystemMs: number;
  rssBytes: number;
  errors: string[];
}

export type ToBots =
  | { t: 'init'; init: BotInit }
  | { t: 'spawn'; id: number; spec: SpawnSpec }
  | { t: 'stats'; id: number }
  | { t: 'stop' }
  | { t: 'sigres'; id: number; ok: boolean; data?: unknown; error?: string }
  | { t: 'srvreq'; peer: string; id: number; method: 'media.newConsumer'; data: NewConsumer };

export type FromBots =
  | { t: 'ready' }
  | { t: 'spawned'; id: number; ok: number; failed: number; errors: string[]; ms: number }
  | { t: 'stats'; id: number; stats: BotStats }
  | { t: 'sig'; peer: string; id: number; method: BareMethod; data: unknown }
  | { t: 'srvres'; id: number; ok: boolean; error?: string }
  | { t: 'stopped' };
