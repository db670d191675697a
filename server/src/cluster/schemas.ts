import { z } from 'zod';

// Everything that crosses Redis is parsed with these before use: another node, an old
// version or anyone with access to Redis may have written it.

/** Node ids end up in Redis keys and channel names: keep them plain. */
export const nodeIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, ".", "_", ":" and "-" only');

const count = z.number().int().min(0);

export const nodeLoadSchema = z.object({
  /** Share of the node's CPU in use, 0..1 (mean over its workers). */
  cpu: z.number().min(0).max(1),
  routers: count,
  consumers: count,
  peers: count,
});
export type NodeLoad = z.infer<typeof nodeLoadSchema>;

export const nodeInfoSchema = z.object({
  nodeId: nodeIdSchema,
  /** Where other nodes (and a load balancer) reach its HTTP API and WebSocket. */
  httpUrl: z.url(),
  /** The address its media transports announce (TUTTI_MEDIA_ANNOUNCED_ADDRESS). */
  mediaAddress: z.string().min(1).max(255),
  load: nodeLoadSchema,
  /** Draining nodes take no new peers; placement skips them. */
  draining: z.boolean(),
  startedAt: z.number().int().min(0),
  /** Bumped each time the node finds its entry reaped (tells a return from a stale entry). */
  epoch: z.number().int().min(0).optional(),
});
export type NodeInfo = z.infer<typeof nodeInfoSchema>;

export const rpcErrorSchema = z.object({
  code: z.string().max(64),
  message: z.string().max(1000),
});

const envelopeBase = {
  v: z.literal(1),
  id: z.string().min(1).max(64),
  from: nodeIdSchema,
  to: nodeIdSchema,
  /** When the sender signed it (its clock, ms): an old one is a replay (cluster/rpcSeal.ts). */
  ts: z.number().int().min(0),
};

export const rpcEnvelopeSchema = z.discriminatedUnion('kind', [
  z.object({
    ...envelopeBase,
    kind: z.literal('req'),
    method: z.string().min(1).max(100),
    data: z.unknown(),
  }),
  z.object({ ...envelopeBase, kind: z.literal('ok'), data: z.unknown() }),
  z.object({ ...envelopeBase, kind: z.literal('err'), error: rpcErrorSchema }),
]);
export type RpcEnvelope = z.infer<typeof rpcEnvelopeSchema>;
