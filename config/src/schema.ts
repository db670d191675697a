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

const proxyNames = new Set(['loopback', 'linklocal', 'uniquelocal']);
/** One proxy entry: an address, address/prefix, or a proxy-addr name. */
function isProxyEntry(entry: string): boolean {
  if (proxyNames.has(entry)) return true;
  const [ip, prefix, extra] = entry.split('/');
  const family = isIP(ip ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}
/** Comma-separated (or an array of) addresses or address/prefix CIDRs; may be empty. */
const cidrList = z
  .union([z.array(z.string()), z.string().transform((v) => v.split(','))])
  .transform((list) => list.map((e) => e.trim()).filter(Boolean))
  .refine((list) => list.every((e) => !proxyNames.has(e) && isProxyEntry(e)), {
    message: 'comma-separated addresses or CIDRs (127.0.0.1, 10.0.0.0/8, ::1/128)',
  });
const proxyList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
      .join(','),
  )
  .refine((v) => v !== '' && v.split(',').every(isProxyEntry), {
    message:
      'true, false, or comma-separated addresses/CIDRs (or loopback, linklocal, uniquelocal)',
  });

/** A JSON string (from an environment variable) is parsed; anything else passes through. */
const json = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v; // The schema then reports "expected array" with the setting's name.
  }
};

/** A list from code/JSON, or a comma-separated string (from an environment variable). */
const stringList = (item: z.ZodString) =>
  z.union([
    z.array(item),
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      )
      .pipe(z.array(item)),
  ]);

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

/** A dotted path into a provider's profile JSON ("response.email"). */
const fieldPath = z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, 'a dotted field path');

const providerBase = {
  /** In the routes (/api/auth/<id>/login) and data-testids (login-provider-<id>). */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and dashes'),
  /** The button's label. */
  name: z.string().min(1).max(64),
  clientId: z.string().min(1),
  clientSecret: z.string().optional(),
  /** PKCE (S256); off only for providers that reject it (Naver). */
  pkce: z.boolean().default(true),
};

const profileSchema = z.object({
  id: fieldPath,
  name: fieldPath.optional(),
  email: fieldPath.optional(),
  /** Where the provider says the email is verified; absent → never verified (no linking). */
  emailVerified: fieldPath.optional(),
});

export const providerSchema = z.discriminatedUnion('type', [
  z.object({
    ...providerBase,
    type: z.literal('oidc'),
    /** Discovery: <issuer>/.well-known/openid-configuration; the id token's iss must match. */
    issuer: z.url(),
    scopes: z.array(z.string()).default(['openid', 'email', 'profile']),
    /** Claims of the id token (merged with userinfo). */
    profile: profileSchema.default({
      id: 'sub',
      name: 'name',
      email: 'email',
      emailVerified: 'email_verified',
    }),
  }),
  z.object({
    ...providerBase,
    type: z.literal('oauth2'),
    authorizationUrl: z.url(),
    tokenUrl: z.url(),
    userinfoUrl: z.url(),
    scopes: z.array(z.string()).default([]),
    profile: profileSchema,
    /** How the client secret reaches the token endpoint. */
    tokenAuth: z.enum(['post', 'basic']).default('post'),
  }),
]);

export const configSchema = z.object({
  server: z
    .object({
      host: z.string().default('0.0.0.0'),
      port: port.default(3000),
      /**
       * Also serve the app over HTTPS here (browsers allow cameras only in a secure context
       * off localhost); 0 = off. Only `npm start` opens it.
       */
      httpsPort: port.default(3443),
      /** PEM certificate and key for HTTPS; unset: a self-signed pair under data.dir/tls. */
      tlsCertFile: z.string().optional(),
      tlsKeyFile: z.string().optional(),
      /** Built Svelte client served at "/". */
      publicDir: z.string().default('client/dist'),
      logLevel: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info'),
      /**
       * Whose X-Forwarded-For to believe for the client address (the limiters key by it):
       * false (nobody), true (every hop: only if the proxy overwrites the header), or the
       * proxies' addresses/CIDRs, comma-separated (loopback, linklocal, uniquelocal allowed).
       */
      trustProxy: z.union([bool, proxyList]).default(false),

      /**
       * The address browsers use (https://meet.example.com), when a proxy makes the request's
       * own host unreliable: social login callbacks are built on it. Unset: the request's origin.
       */
      publicUrl: z.url({ protocol: /^https?$/ }).optional(),
      /**
       * SIGTERM: stop taking peers, ask them to reconnect elsewhere, exit when gone or after
       * this. 0: no drain, SIGTERM stops at once (as SIGINT always does).
       */
      drainGraceSeconds: z.coerce.number().int().min(0).default(60),
      /**
       * Slow clients (issue #10): a request must arrive in full within requestTimeoutSeconds
       * (uploads included) and its headers within headersTimeoutSeconds; a socket silent for
       * connectionTimeoutSeconds is dropped. Node enforces the first two on a timer that runs
       * every timeoutCheckIntervalSeconds. WebSockets are not affected (they have a ping).
       */
      requestTimeoutSeconds: seconds.default(300),
      headersTimeoutSeconds: seconds.default(30),
      connectionTimeoutSeconds: seconds.default(120),
      timeoutCheckIntervalSeconds: seconds.default(5),
    })
    .prefault({}),
  metrics: z
    .object({
      /**
       * GET /metrics and GET /api/health/detail (worker pids, CPU, rooms) answer requests
       * carrying `Authorization: Bearer <token>`, or from `allowIps`; everyone else gets 403.
       */
      token: z.string().min(16).optional(),
      /** Client addresses (after trustProxy) allowed without the token. Default: loopback. */
      allowIps: cidrList.default(['127.0.0.0/8', '::1/128']),
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
      /**
       * STUN/TURN servers handed to browsers as they are (env: a JSON array); TURN servers
       * with expiring credentials are `turn` below.
       */
      iceServers: z.preprocess(json, z.array(iceServerSchema)).default([]),
      /** 'relay': browsers use TURN only (tests, networks that must hide peers' addresses). */
      iceTransportPolicy: z.enum(['all', 'relay']).default('all'),
    })
    .prefault({}),
  turn: z
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
    }),
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
      /**
       * A socket whose unsent data passes this many bytes (a client that stopped reading) is
       * cut: what is queued for it is dropped instead of piling up in server memory.
       */
      maxBufferedBytes: z.coerce
        .number()
        .int()
        .min(64 * 1024)
        .default(4 * 1024 * 1024),
      /** An answer bigger than this is replaced by PAYLOAD_TOO_LARGE (ask for less). */
      maxResponseBytes: z.coerce
        .number()
        .int()
        .min(16 * 1024)
        .default(1024 * 1024),
      /** The server pings every socket this often; one that missed the last pong is cut. */
      pingIntervalSeconds: seconds.default(25),
      /**
       * Open sockets per client address (as trustProxy computes it); over it → 429. Room for
       * an office behind one NAT address, a tab each.
       */
      maxConnectionsPerAddress: z.coerce.number().int().positive().default(100),
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
      /** A history page (chat.history, the join answer) is trimmed to this many bytes. */
      historyMaxBytes: z.coerce
        .number()
        .int()
        .min(16 * 1024)
        .default(256 * 1024),
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
      /** Bytes one member may have stored (its uploads, in flight included). */
      maxBytesPerPeer: z.coerce
        .number()
        .int()
        .positive()
        .default(200 * 1024 * 1024),
      /** Bytes a room may have stored. */
      maxBytesPerRoom: z.coerce
        .number()
        .int()
        .positive()
        .default(1024 * 1024 * 1024),
      /** Uploads one member may have streaming at once. */
      maxConcurrentUploadsPerPeer: z.coerce.number().int().min(1).max(16).default(2),
      /**
       * An upload or download whose bytes stop flowing for this long is cut (storage
       * frozen, or a client that stalls): an error, never a hang; nothing left behind.
       */
      stallTimeoutMs: z.coerce.number().int().min(100).max(600_000).default(30_000),
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
          /** Connecting to the store is bounded by this. */
          connectTimeoutMs: z.coerce.number().int().min(50).max(60_000).default(5000),
          /** A request (or its socket) silent for this long fails. */
          requestTimeoutMs: z.coerce.number().int().min(50).max(600_000).default(30_000),
        })
        .prefault({}),
    })
    .prefault({}),
  auth: z
    .object({
      /** People without an account may use rooms. */
      guests: bool.default(true),
      /** Social login; env TUTTI_AUTH_PROVIDERS as a JSON array. See docs/accounts.md. */
      providers: z
        .preprocess(json, z.array(providerSchema))
        .default([])
        .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'duplicate id'),
      sessionTtlDays: z.coerce.number().int().min(1).max(400).default(30),
      /** Login and password checks per client address per minute (burst included). */
      loginsPerMinutePerAddress: z.coerce.number().int().positive().default(10),
      /** …and per account (email), from any address. */
      loginsPerMinutePerAccount: z.coerce.number().int().positive().default(5),
      /** Sign-ups per client address per hour. */
      signupsPerHourPerAddress: z.coerce.number().int().positive().default(20),
      /** argon2id cost: memory in KiB and passes (OWASP's minimum: 19456, 2). */
      argon2MemoryKiB: z.coerce.number().int().min(1024).default(19456),
      argon2Passes: z.coerce.number().int().min(1).default(2),
      /**
       * TEST ONLY: lets providers be reached over http:// (a local OpenID provider in the
       * tests). Never set it in a deployment: tokens would travel in clear text.
       */
      allowInsecureProviders: bool.default(false),
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
      /** Getting a connection may take this long; then the request fails (STORE_UNAVAILABLE). */
      connectTimeoutMs: z.coerce.number().int().min(100).max(60_000).default(3000),
      /** One statement may take this long (cancelled by PostgreSQL, then given up on by us). */
      statementTimeoutMs: z.coerce.number().int().min(100).max(60_000).default(5000),
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
export type AuthProviderConfig = z.infer<typeof providerSchema>;
/** What callers may pass: any subset of sections and keys. */
export type ConfigInput = z.input<typeof configSchema>;
