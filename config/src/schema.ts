import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { z } from 'zod';

// One typed Config object, validated once at start-up (see load.ts). Defaults live here
// so the schema is the single place that says what a setting means and what it may be.

const port = z.coerce.number().int().min(0).max(65535);
const seconds = z.coerce.number().int().min(1);
const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
]);

/** An address, a CIDR range or one of proxy-addr's names (loopback, linklocal, uniquelocal). */
const proxyAddress = z.string().refine((a) => {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(a)) return true;
  const [ip, bits, extra] = a.split('/');
  if (extra !== undefined || !isIP(ip ?? '')) return false;
  return (
    bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(ip!) === 4 ? 32 : 128))
  );
}, 'an IP address, a CIDR range, loopback, linklocal or uniquelocal');

/**
 * Which peers may set X-Forwarded-For: false (none), true (any: only when nothing but the
 * proxy can reach the server), or a comma-separated list of addresses/CIDRs (the proxy's).
 */
const trustProxy = z.union([
  bool,
  z.array(proxyAddress).min(1),
  z
    .string()
    .transform((s) => s.split(',').map((a) => a.trim()))
    .pipe(z.array(proxyAddress).min(1)),
]);

export const configSchema = z.object({
  server: z
    .object({
      host: z.string().default('0.0.0.0'),
      port: port.default(3000),
      /** Built Svelte client served at "/". */
      publicDir: z.string().default('client/dist'),
      logLevel: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info'),
      trustProxy: trustProxy.default(false),
      /** SIGTERM: stop taking peers, ask them to reconnect elsewhere, exit when gone or after this. */
      drainGraceSeconds: seconds.default(60),
    })
    .prefault({}),
  media: z
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
      /** How often worker load (CPU) is sampled for placement. */
      loadSampleMs: z.coerce.number().int().min(100).default(2000),
    })
    .prefault({}),
  rooms: z
    .object({
      /** An empty room is deleted after this long without anyone in it. */
      idleTtlSeconds: seconds.default(24 * 3600),
      cleanupIntervalSeconds: seconds.default(600),
      maxCapacity: z.coerce.number().int().min(2).max(1000).default(100),
      passwordMaxAttempts: z.coerce.number().int().min(1).default(5),
      passwordWindowSeconds: seconds.default(60),
      passwordLockoutSeconds: seconds.default(300),
    })
    .prefault({}),
  signaling: z
    .object({
      /** protoo requests per connection: sustained rate (token bucket); over it → RATE_LIMITED. */
      requestsPerSecond: z.coerce.number().positive().default(50),
      /** …and how many may come at once (a layout change pausing/resuming many tiles). */
      requestBurst: z.coerce.number().int().positive().default(200),
      /** room.create (protoo and POST /api/rooms) per client address per minute, burst included. */
      roomCreatesPerMinute: z.coerce.number().int().positive().default(30),
    })
    .prefault({}),
  data: z
    .object({
      /** Root for the embedded database and local files. */
      dir: z.string().default('data'),
    })
    .prefault({}),
  chat: z
    .object({
      ratePerSecond: z.coerce.number().positive().default(10),
      burst: z.coerce.number().int().positive().default(20),
      maxLength: z.coerce.number().int().positive().default(2000),
      historyPageSize: z.coerce.number().int().min(1).max(500).default(100),
    })
    .prefault({}),
  files: z
    .object({
      driver: z.enum(['local', 's3']).default('local'),
      maxBytes: z.coerce
        .number()
        .int()
        .positive()
        .default(50 * 1024 * 1024),
      /** MIME types accepted after sniffing the content. */
      allowedTypes: z
        .union([
          z.array(z.string()),
          z.string().transform((s) => s.split(',').map((t) => t.trim())),
        ])
        .default([
          'image/png',
          'image/jpeg',
          'image/gif',
          'image/webp',
          'application/pdf',
          'text/plain',
          'application/zip',
          'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
          'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          'application/vnd.openxmlformats-officedocument.presentationml.presentation',
          'application/msword',
          'application/vnd.ms-excel',
          'application/vnd.ms-powerpoint',
          'application/vnd.oasis.opendocument.text',
          'application/vnd.oasis.opendocument.spreadsheet',
        ]),
      uploadTokenTtlSeconds: seconds.default(300),
      /**
       * Signs upload and download tokens. Unset: a random key per process (tokens die with
       * it); a cluster must share one.
       */
      secret: z.string().min(16, 'at least 16 characters').optional(),
      s3: z
        .object({
          bucket: z.string().default('tutti'),
          region: z.string().default('us-east-1'),
          endpoint: z.string().optional(),
          forcePathStyle: bool.default(true),
          accessKeyId: z.string().optional(),
          secretAccessKey: z.string().optional(),
          /** Many S3-compatible servers reject aws-chunked CRC32 bodies: WHEN_REQUIRED avoids them. */
          checksum: z.enum(['WHEN_SUPPORTED', 'WHEN_REQUIRED']).default('WHEN_REQUIRED'),
          /** Key prefix inside the bucket (e.g. "tutti/") when the bucket is shared. */
          prefix: z.string().default(''),
          /** Create the bucket at start-up when missing (single-box MinIO and the like). */
          createBucket: bool.default(false),
        })
        .prefault({}),
    })
    .prefault({}),
  redis: z
    .object({
      /** When set, the cluster implementations (room directory, chat fan-out) use Redis. */
      url: z.string().optional(),
      /** Every Redis command settles within this; Redis frozen means an error, not a hang. */
      commandTimeoutMs: z.coerce.number().int().min(50).max(60_000).default(1000),
    })
    .prefault({}),
  database: z
    .object({
      /** A postgres:// URL: rooms, chat history and file records in PostgreSQL (else SQLite). */
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\/\S+$/, 'a postgres:// or postgresql:// URL')
        .optional(),
    })
    .prefault({}),
  cluster: z
    .object({
      /** This node's name in the cluster (registry, RPC channel, room placement). */
      nodeId: z
        .string()
        .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits, ".", "_", ":" and "-", at most 128')
        .default(() => hostname()),
      /**
       * How other nodes reach this one's HTTP API (file fetches, drain hand-off). Unset: built
       * from media.announcedAddress (or server.host) and server.port.
       */
      advertisedUrl: z.url().optional(),
      heartbeatMs: z.coerce.number().int().min(100).max(60_000).default(2000),
      /** A node silent for longer than this is gone: its members leave, its seats free up. */
      nodeTimeoutMs: z.coerce.number().int().min(300).max(300_000).default(6000),
      rpcTimeoutMs: z.coerce.number().int().min(50).max(60_000).default(2000),
    })
    .prefault({})
    .refine((c) => c.nodeTimeoutMs >= 2 * c.heartbeatMs, {
      message: 'nodeTimeoutMs must be at least twice heartbeatMs',
      path: ['nodeTimeoutMs'],
    }),
});

export type Config = z.infer<typeof configSchema>;
/** What callers may pass: any subset of sections and keys. */
export type ConfigInput = z.input<typeof configSchema>;
