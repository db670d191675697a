import { z } from 'zod';

// One typed Config object, validated once at start-up (see load.ts). Defaults live here
// so the schema is the single place that says what a setting means and what it may be.

const port = z.coerce.number().int().min(0).max(65535);
const seconds = z.coerce.number().int().min(1);
const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
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
      trustProxy: bool.default(false),
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
      /**
       * Consumers one router of a room carries before newcomers go to a router on another
       * worker (piped together). ~0.55 of a worker core for the measured 1780 consumers per
       * core (docs/benchmarks.md), ~0.75 with browsers' transport-cc: headroom for the rest.
       */
      maxConsumersPerRouter: z.coerce.number().int().min(1).default(1000),
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
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
/** What callers may pass: any subset of sections and keys. */
export type ConfigInput = z.input<typeof configSchema>;
