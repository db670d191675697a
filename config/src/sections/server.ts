import { z } from 'zod';
import { bool, cidrList, port, proxyList, seconds, stringList } from './fields.ts';

export const serverSection = z
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
     * A member whose signaling socket drops keeps its seat, nickname, role and media this
     * long, for the client to come back with its resume token (docs/reconnect.md); then it
     * leaves as before. 0: a dropped socket leaves at once.
     */
    resumeGraceSeconds: z.coerce.number().int().min(0).max(600).default(15),
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
  .prefault({});

export const metricsSection = z
  .object({
    /**
     * GET /metrics and GET /api/health/detail (worker pids, CPU, rooms) answer requests
     * carrying `Authorization: Bearer <token>`, or from `allowIps`; everyone else gets 403.
     */
    token: z.string().min(16).optional(),
    /** Client addresses (after trustProxy) allowed without the token. Default: loopback. */
    allowIps: cidrList.default(['127.0.0.0/8', '::1/128']),
  })
  .prefault({});

export const signalingSection = z
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
    /**
     * Room-wide notifications (chat, presence) are framed once and the same bytes written
     * to every socket; false lets `ws` frame each send (the chat bench's baseline).
     */
    preframeBroadcasts: bool.default(true),
    /**
     * On a busy server (below), a socket that wrote less than this many ms ago holds its next
     * frames until this long after that write: a busy socket (a big room's chat) writes once
     * per hold instead of once per message; an idle one still writes at once. 0: never held.
     */
    coalesceWritesMs: z.coerce.number().min(0).max(100).default(20),
    /** Frames handed over per second (all sockets) from which the hold applies; 0: always. */
    coalesceFromFramesPerSecond: z.coerce.number().min(0).default(50_000),
    /** The server pings every socket this often; one that missed the last pong is cut. */
    pingIntervalSeconds: seconds.default(25),
    /**
     * Open sockets per client address (as trustProxy computes it); over it → 429. Room for
     * an office behind one NAT address, a tab each.
     */
    maxConnectionsPerAddress: z.coerce.number().int().positive().default(100),
    /**
     * Origins (scheme://host[:port]) whose pages may open /ws besides the server's own (and
     * server.publicUrl's); other cross-origin upgrades get 403. A handshake without Origin
     * (no browser: bots, backends) is let in. (The Vite dev proxy rewrites its Origin itself.)
     */
    allowedOrigins: stringList(z.url({ protocol: /^https?$/ })).default([]),
  })
  .prefault({});
