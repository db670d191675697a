import type { Redis } from 'ioredis';
import type { Logger } from '../kernel/log.ts';
import { LocalClusterHub } from './local.ts';
import { NodeRegistry } from './NodeRegistry.ts';
import type { RoomPlacement } from './Placement.ts';
import { connectRedis, quitRedis, whenReady, type RedisSettings } from '../kernel/redis.ts';
import { RedisPlacement } from './RedisPlacement.ts';
import { RedisRegistryStore } from './RedisRegistryStore.ts';
import { RedisTransport } from './RedisTransport.ts';
import { ClusterRpc, type RpcMethods } from './Rpc.ts';
import type { NodeInfo, NodeLoad } from './schemas.ts';

export interface ClusterOptions<M extends RpcMethods> {
  /** TUTTI_CLUSTER_NODE_ID (config cluster.nodeId; the host name by default). */
  nodeId: string;
  httpUrl: NodeInfo['httpUrl'];
  mediaAddress: NodeInfo['mediaAddress'];
  load: () => NodeLoad;
  methods: M;
  log: Logger;
  /** Set: the cluster lives in this Redis. Unset: a single node, in process (`hub`). */
  redis?: RedisSettings & { prefix?: string };
  hub?: LocalClusterHub;
  heartbeatMs?: number;
  expiryMs?: number;
  rpcTimeoutMs?: number;
  /** Drop requests from nodes this rejects (e.g. `(id) => registry.get(id) !== undefined`). */
  acceptFrom?: (nodeId: string) => boolean;
  /**
   * The cluster secret (files.secret): RPC envelopes are signed with a key from it. Absent:
   * this process's own, so only nodes in this process can call each other.
   */
  secret?: string | Buffer | undefined;
  /** How old an RPC envelope may be before it is dropped as a replay (default 30 s). */
  rpcReplayWindowMs?: number;
}

export interface Cluster<M extends RpcMethods> {
  readonly nodeId: string;
  readonly registry: NodeRegistry;
  readonly rpc: ClusterRpc<M>;
  readonly placement: RoomPlacement;
  start(): Promise<void>;
  /** Leaves the cluster: gives this node's seats back and removes its registry entry. */
  stop(): Promise<void>;
}

/**
 * Builds a node's cluster parts on Redis or in process. A node declared gone has its seats
 * released by whichever node notices (idempotent, so all of them may).
 */
export function createCluster<M extends RpcMethods>(opts: ClusterOptions<M>): Cluster<M> {
  const log = opts.log.child({ cluster: opts.nodeId });
  let redis: Redis | undefined;
  let parts;
  if (opts.redis) {
    const prefix = opts.redis.prefix ?? 'tutti:cluster:';
    redis = connectRedis(opts.redis, log, 'commands');
    parts = {
      store: new RedisRegistryStore(redis, prefix),
      transport: new RedisTransport(redis, opts.redis, prefix, log),
      placement: new RedisPlacement(redis, prefix) as RoomPlacement,
    };
  } else {
    const hub = opts.hub ?? new LocalClusterHub();
    parts = { store: hub.registryStore(), transport: hub.transport(), placement: hub.placement() };
  }
  const registry = new NodeRegistry(parts.store, {
    self: { nodeId: opts.nodeId, httpUrl: opts.httpUrl, mediaAddress: opts.mediaAddress },
    load: opts.load,
    log,
    heartbeatMs: opts.heartbeatMs,
    expiryMs: opts.expiryMs,
  });
  const rpc = new ClusterRpc(parts.transport, opts.nodeId, opts.methods, {
    log,
    defaultTimeoutMs: opts.rpcTimeoutMs,
    acceptFrom: opts.acceptFrom,
    secret: opts.secret,
    replayWindowMs: opts.rpcReplayWindowMs,
  });
  if (opts.redis && opts.secret === undefined)
    log.warn(
      {},
      'cluster: no files.secret: requests from other processes are dropped (set TUTTI_FILES_SECRET on every node)',
    );
  const placement = parts.placement;
  registry.on('nodeLeft', async (nodeId) => {
    rpc.failPendingTo(nodeId);
    const released = await placement.releaseNode(nodeId);
    if (released > 0) log.info({ nodeId, released }, 'cluster: released a gone node’s seats');
  });
  return {
    nodeId: opts.nodeId,
    registry,
    rpc,
    placement,
    /** Resolves even with Redis down (the parts retry; `registry.healthy` says so meanwhile). */
    async start() {
      // Both bounded by the connect timeout: with Redis down the node starts anyway.
      await Promise.all([
        redis && whenReady(redis, (opts.redis?.connectTimeoutMs ?? 2000) + 1000),
        rpc.start().catch((err: unknown) => {
          log.warn(
            { err },
            'cluster: not subscribed yet (Redis down?); retrying in the background',
          );
        }),
      ]);
      // Seats under this id now belong to a previous process that crashed: nobody is here yet.
      await placement.releaseNode(opts.nodeId).catch((err: unknown) => {
        log.warn({ err }, 'cluster: could not clear this node’s old seats');
      });
      await registry.start();
    },
    async stop() {
      await registry.stop();
      await placement.releaseNode(opts.nodeId).catch(() => 0);
      await rpc.close();
      if (redis) await quitRedis(redis, opts.redis?.commandTimeoutMs ?? 1000);
    },
  };
}
