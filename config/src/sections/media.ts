import { z } from 'zod';
import { bool, json, port, seconds, stringList } from './fields.ts';

const iceUrl = z
  .string()
  .regex(/^(stun|stuns|turn|turns):\S+$/, 'a stun:, stuns:, turn: or turns: URL');
const turnUrl = z.string().regex(/^turns?:\S+$/, 'a turn: or turns: URL');

/** One RTCIceServer as browsers take it (static credentials; see `turn` for expiring ones). */
const iceServerSchema = z
  .object({
    urls: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(iceUrl).min(1)),
    username: z.string().optional(),
    credential: z.string().optional(),
  })
  .refine((s) => !s.urls.some((u) => u.startsWith('turn')) || (s.username && s.credential), {
    message: 'a TURN entry needs username and credential (browsers reject it without)',
  });

export const mediaSection = z
  .object({
    /** Worker processes; 0 means one per CPU core. */
    numWorkers: z.coerce.number().int().min(0).max(256).default(0),
    /** Explicit worker binary; else MEDIASOUP_WORKER_BIN, else media-workers/bin/mediasoup-worker. */
    workerBin: z.string().optional(),
    logLevel: z.enum(['debug', 'warn', 'error', 'none']).default('warn'),
    rtcMinPort: port.default(40000),
    rtcMaxPort: port.default(49999),
    /** Loopback by default so a fresh clone works locally; set 0.0.0.0 + announcedAddress in deployments. */
    listenIp: z.string().default('127.0.0.1'),
    announcedAddress: z.string().optional(),
    enableUdp: bool.default(true),
    enableTcp: bool.default(true),
    preferUdp: bool.default(true),
    initialAvailableOutgoingBitrate: z.coerce.number().int().positive().default(1_000_000),
    maxIncomingBitrate: z.coerce.number().int().positive().default(3_000_000),
    /**
     * Floor of a receive transport's bandwidth estimate (setMinOutgoingBitrate): audio plus
     * the lowest simulcast layer (150 kbit/s, client producers.ts) always stay allowed, so a
     * collapsed estimate (mediasoup's own floor is 30 kbit/s) cannot leave a viewer with no
     * video layer at all. 0: mediasoup's default.
     */
    minOutgoingBitrate: z.coerce.number().int().min(0).default(150_000),
    /**
     * The receive transports' layer guard (server/src/rooms/downlinkGuard.ts): holds simulcast
     * consumers to a fitting layer when a link's estimate drops sharply. It turns on mediasoup's
     * `bwe` trace for every receive transport; off only to measure what that costs.
     */
    downlinkGuard: bool.default(true),
    /** How often worker load (CPU) is sampled for placement. */
    loadSampleMs: z.coerce.number().int().min(100).default(2000),
    /**
     * Consumers one router of a room carries before newcomers go to a router on another
     * worker (piped together). ~0.55 of a worker core for the measured 1780 consumers per
     * core (docs/benchmarks.md), ~0.75 with browsers' transport-cc: headroom for the rest.
     */
    maxConsumersPerRouter: z.coerce.number().int().min(1).default(1000),
    /**
     * STUN/TURN servers handed to browsers as they are (env: a JSON array); TURN servers
     * with expiring credentials are `turn` below.
     */
    iceServers: z.preprocess(json, z.array(iceServerSchema)).default([]),
    /** 'relay': browsers use TURN only (tests, networks that must hide peers' addresses). */
    iceTransportPolicy: z.enum(['all', 'relay']).default('all'),
  })
  .prefault({});

export const turnSection = z
  .object({
    /** TURN URLs (turn:host:3478?transport=udp, turns:host:5349); joiners get credentials. */
    urls: stringList(turnUrl).default([]),
    /** coturn's static-auth-secret (use-auth-secret): credentials are an HMAC of it. */
    secret: z.string().min(1).optional(),
    /** How long a joiner's TURN credentials stay valid (a later join gets fresh ones). */
    ttlSeconds: seconds.default(86400),
  })
  .prefault({})
  .refine((t) => t.urls.length === 0 || t.secret !== undefined, {
    message: 'turn.urls needs turn.secret (coturn static-auth-secret)',
    path: ['secret'],
  });
