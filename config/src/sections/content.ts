import { z } from 'zod';
import { bool, seconds } from './fields.ts';

export const dataSection = z
  .object({
    /** Root for the embedded database and local files. */
    dir: z.string().default('data'),
  })
  .prefault({});

export const chatSection = z
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
    /** A tick's chat bus PUBLISHes leave in one write to Redis (false: bench:chat's baseline). */
    coalesceBusWrites: bool.default(true),
    /** Opt-in: per-message timings of the chat path as NDJSON in this directory (benches). */
    traceDir: z.string().optional(),
  })
  .prefault({});

export const filesSection = z
  .object({
    driver: z.enum(['local', 's3']).default('local'),
    maxBytes: z.coerce
      .number()
      .int()
      .positive()
      .default(50 * 1024 * 1024),
    /** MIME types accepted after sniffing the content. */
    allowedTypes: z
      .union([z.array(z.string()), z.string().transform((s) => s.split(',').map((t) => t.trim()))])
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
  .prefault({});
