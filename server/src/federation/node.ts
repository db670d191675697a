import type { Config } from '@tutti/config';
import type { WorkerPool } from '@tutti/media-workers';
import {
  clusterSettings,
  createCluster,
  type Cluster,
  type LocalClusterHub,
  type NodeLoad,
} from '../cluster/index.ts';
import type { Logger } from '../kernel/log.ts';
import type { Drain } from '../ops/drain.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { clusterMethods, type ClusterMethods } from './methods.ts';

export type ClusterNode = Cluster<ClusterMethods>;

export interface ClusterNodeDeps {
  config: Config;
  workers: WorkerPool;
  rooms: RoomRegistry;
  drain: Drain;
  log: Logger;
  /** Several in-process "nodes" of one test share a hub; default: a hub of its own. */
  hub?: LocalClusterHub;
}

/**
 * This node as one of a cluster: on Redis when `redis.url` is set, else alone in process
 * (same code path, one member). Its heartbeat carries the load other nodes place by; a
 * drain is announced so they stop sending peers here.
 */
export function createClusterNode(deps: ClusterNodeDeps): ClusterNode {
  const { workers, rooms } = deps;
  const cluster = createCluster({
    ...clusterSettings(deps.config),
    load: () => nodeLoad(workers, rooms),
    methods: clusterMethods,
    log: deps.log,
    ...(deps.hub && !deps.config.redis.url && { hub: deps.hub }),
  });
  deps.drain.onBegin(() => cluster.registry.setDraining(true));
  return cluster;
}

/** CPU is the mean over the node's workers (each a share of one core), clamped to 0..1. */
function nodeLoad(workers: WorkerPool, rooms: RoomRegistry): NodeLoad {
  const status = workers.status();
  let cpu = 0;
  let routers = 0;
  let consumers = 0;
  for (const w of status) {
    cpu += w.cpu ?? 0;
    routers += w.routers;
    consumers += w.consumers;
  }
  let peers = 0;
  for (const room of rooms.rooms()) peers += room.size;
  const mean = status.length > 0 ? cpu / status.length : 0;
  return { cpu: Math.min(1, Math.max(0, mean)), routers, consumers, peers };
}
