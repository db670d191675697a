// The cluster's foundations: node registry, node-to-node RPC and room placement, each on
// Redis (a cluster) or in process (one node). See docs/cluster.md.
export { createCluster, type Cluster, type ClusterOptions } from './createCluster.ts';
export { ClusterError, type ClusterFailure } from './errors.ts';
export { LocalClusterHub } from './local.ts';
export { NodeRegistry, type RegistryStore, type NodeRegistryOptions } from './NodeRegistry.ts';
export type { RoomPlacement, RoomSpread, SeatResult } from './Placement.ts';
export { connectRedis, quitRedis, whenReady, type RedisSettings } from '../kernel/redis.ts';
export { clusterSettings, type ClusterSettings } from './settings.ts';
export { RedisPlacement } from './RedisPlacement.ts';
export { RedisRegistryStore } from './RedisRegistryStore.ts';
export { RedisTransport } from './RedisTransport.ts';
export { ClusterRpc, type RpcMethods, type RpcTransport, type RpcHandler } from './Rpc.ts';
export {
  nodeIdSchema,
  nodeInfoSchema,
  nodeLoadSchema,
  type NodeInfo,
  type NodeLoad,
} from './schemas.ts';
