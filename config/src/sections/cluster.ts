import { hostname } from 'node:os';
import { z } from 'zod';

export const redisSection = z
  .object({
    /** When set, the cluster implementations (room directory, chat fan-out) use Redis. */
    url: z.string().optional(),
    /** Every Redis command settles within this; Redis frozen means an error, not a hang. */
    commandTimeoutMs: z.coerce.number().int().min(50).max(60_000).default(1000),
  })
  .prefault({});

export const databaseSection = z
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
  .prefault({});

export const clusterSection = z
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
    /**
     * How often a node compares, with each node it pipes media from, the producers it holds
     * with the ones there (±25 %): a lost announcement is repaired within about this long.
     */
    mediaReconcileMs: z.coerce.number().int().min(100).max(600_000).default(10_000),
    /** Every Redis key and channel of the cluster starts with this (several clusters, one Redis). */
    redisPrefix: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'letters, digits, ".", "_", ":" and "-", at most 64')
      .default('tutti:cluster:'),
  })
  .prefault({})
  .refine((c) => c.nodeTimeoutMs >= 2 * c.heartbeatMs, {
    message: 'nodeTimeoutMs must be at least twice heartbeatMs',
    path: ['nodeTimeoutMs'],
  });
