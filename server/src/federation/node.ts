import type { Config } from '@tutti/config';
import type { WorkerPool } from '@tutti/media-workers';
import {
  clusterSettings,
  createCluster,
  LocalClusterHub,
  type Cluster,
  type NodeLoad,
} from '../cluster/index.ts';
import type { Logger } from '../kernel/log.ts';
import type { Drain } from '../ops/drain.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { SharedModerationState } from '../moderation/sharedState.ts';
import type { RoomStore } from '../store/RoomStore.ts';
import type { PeerInfo } from '@tutti/protocol';
import { localLifeClaims, redisLifeClaims, type LifeClaims } from './lifeClaims.ts';
import type { MemberMoves } from './memberMoves.ts';
import { clusterMethods, type ClusterMethods } from './methods.ts';
import { localNicknames, redisNicknames } from './nicknames.ts';
import { Presence } from './presence.ts';
import { PresenceBus } from './presenceBus.ts';
import { hubModerationState, redisModerationState } from './roomWideState.ts';
import { createRoomSessions } from './roomSessions.ts';
import { localRoomSessionStore, redisRoomSessionStore } from './roomSessionStore.ts';
import type { RoomSessions } from '../webhooks/roomSessions.ts';

export type ClusterNode = Cluster<ClusterMethods> & {
  /** The signed presence bus: room events; room life, captions, recording, key epochs and moderation changes fan out on it too. */
  readonly bus: PresenceBus;
  /** Which node runs each room's life (games, hands). */
  readonly lifeClaims: LifeClaims;
  /** The rooms' moderation state, shared by the nodes (Redis, or the hub in process). */
  readonly moderationState: SharedModerationState;
  /** The rooms' runs across the cluster, as the webhooks report them (room_started/finished). */
  readonly roomSessions: RoomSessions;
  /** Members resuming across nodes: presence's side (federation/handover.ts). */
  readonly moves: MemberMoves;
  /** The members of other nodes, as presence knows them. */
  readonly remote: {
    peers(roomId: string): PeerInfo[];
    /** `fn` hears of every change to a room's members on other nodes. */
    onChange(fn: (roomId: string) => void): void;
  };
};

export interface ClusterNodeDeps {
  config: Config;
  workers: WorkerPool;
  rooms: RoomRegistry;
  /** The rooms' records (shared by the cluster's nodes when it is PostgreSQL). */
  store: RoomStore;
  drain: Drain;
  log: Logger;
  /** Several in-process "nodes" of one test share a hub; default: a hub of its own. */
  hub?: LocalClusterHub;
}

/**
 * This node as one of a cluster: on Redis when `redis.url` is set, else alone in process
 * (same code path, one member). Its heartbeat carries the load other nodes place by; a
 * drain is announced so they stop sending peers here. The rooms are federated: members of
 * other nodes are seen here, seats are cluster-wide (federation/presence.ts).
 */
export function createClusterNode(deps: ClusterNodeDeps): ClusterNode {
  const { workers, rooms, config } = deps;
  // Before any connection: waiting entries under this node id from earlier are a past life's.
  const startedAt = Date.now();
  const settings = clusterSettings(config);
  const hub = settings.redis ? undefined : (deps.hub ?? new LocalClusterHub());
  const cluster = createCluster({
    ...settings,
    load: () => nodeLoad(workers, rooms),
    methods: clusterMethods,
    log: deps.log,
    ...(hub && { hub }),
  });
  deps.drain.onBegin(() => cluster.registry.setDraining(true));
  const bus = new PresenceBus({
    nodeId: cluster.nodeId,
    log: deps.log.child({ module: 'presence-bus' }),
    secret: config.files.secret,
    redis: settings.redis && {
      ...settings.redis,
      prefix: config.cluster.redisPrefix,
      commandTimeoutMs: config.redis.commandTimeoutMs,
    },
    hub,
  });
  const nicknames = settings.redis
    ? redisNicknames({ ...settings.redis, prefix: config.cluster.redisPrefix }, deps.log)
    : localNicknames(hub!);
  const lifeClaims = settings.redis
    ? redisLifeClaims({ ...settings.redis, prefix: config.cluster.redisPrefix }, deps.log)
    : localLifeClaims(hub!);
  const moderationState = settings.redis
    ? redisModerationState({ ...settings.redis, prefix: config.cluster.redisPrefix }, deps.log)
    : hubModerationState(hub!);
  const redisPrefix = config.cluster.redisPrefix;
  const roomSessions = createRoomSessions({
    nodeId: cluster.nodeId,
    registry: cluster.registry,
    // Without webhooks nothing asks: no Redis connection for it.
    store:
      settings.redis && config.webhooks.urls.length > 0
        ? redisRoomSessionStore({ ...settings.redis, prefix: redisPrefix }, deps.log)
        : localRoomSessionStore(hub ?? new LocalClusterHub()),
    log: deps.log.child({ module: 'webhooks' }),
    timeoutMs: config.cluster.rpcTimeoutMs,
    arrivalMs: 3 * config.cluster.rpcTimeoutMs + 2000,
  });
  const pastLife = releasePastLife({
    nodeId: cluster.nodeId,
    startedAt,
    state: moderationState,
    bus,
    log: deps.log,
  });
  let presence: Presence | undefined;
  const changeListeners: ((roomId: string) => void)[] = [];
  rooms.federate((hands) => {
    presence = new Presence({
      cluster,
      bus,
      nicknames,
      rooms,
      hands,
      store: deps.store,
      log: deps.log.child({ module: 'presence' }),
      timeoutMs: config.cluster.rpcTimeoutMs,
    });
    for (const fn of changeListeners) presence.onRemoteChange(fn);
    return presence;
  });
  const moves = (presence as Presence | undefined)?.moves;
  if (!moves) throw new Error('rooms not federated');
  return {
    ...cluster,
    bus,
    lifeClaims,
    roomSessions,
    moves,
    remote: {
      peers: (roomId) => presence?.remotePeers(roomId) ?? [],
      onChange(fn) {
        if (presence) presence.onRemoteChange(fn);
        else changeListeners.push(fn);
      },
    },
    moderationState,
    async start() {
      // Subscribed before the first heartbeat, so no announcement falls in between.
      await bus.start().catch((err: unknown) => {
        deps.log.warn({ err }, 'presence: bus not subscribed yet (Redis down?); retrying');
      });
      // A past life's waiting entries go before our first heartbeat: once the others see this
      // node live again they list its entries, and must not list those ghosts.
      await pastLife.run();
      // Both bounded by a connect timeout (with Redis down the node starts anyway).
      await Promise.all([roomSessions.start(), cluster.start()]);
      await presence?.start();
    },
    async stop() {
      pastLife.stop();
      presence?.close();
      await bus.close();
      await nicknames.close();
      await lifeClaims.close();
      await moderationState.close();
      await roomSessions.close();
      await cluster.stop();
    },
  };
}

/**
 * A node that crashed and came back under the same id left its people waiting on the rooms'
 * shared lists: they are gone (their connections died with it). Taken off at start-up, before
 * anyone connects (retried while Redis is away), and the other nodes told to read the lists
 * again, so no moderator sees, or can admit, a ghost.
 */
function releasePastLife(deps: {
  nodeId: string;
  startedAt: number;
  state: SharedModerationState;
  bus: PresenceBus;
  log: Logger;
}): { run(): Promise<void>; stop(): void } {
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = async (): Promise<void> => {
    try {
      const rooms = await deps.state.releaseNode(deps.nodeId, deps.startedAt);
      for (const roomId of rooms)
        deps.bus.publish({ type: 'moderation.changed', roomId, change: 'waiting' });
      if (rooms.length > 0)
        deps.log.info({ rooms: rooms.length }, 'moderation: a past life’s waiting entries cleared');
    } catch (err) {
      if (stopped) return;
      deps.log.warn({ err }, 'moderation: a past life’s waiting entries not cleared; retrying');
      retry = setTimeout(() => void run(), 2000);
      retry.unref();
    }
  };
  return {
    run,
    stop() {
      stopped = true;
      clearTimeout(retry);
    },
  };
}

/**
 * A cluster (Redis and PostgreSQL shared) cannot serve files from one node's disk: the other
 * nodes would answer 404. Refused at start-up rather than half working.
 */
export function checkClusterFiles(config: Config): void {
  if (config.redis.url && config.database.url && config.files.driver === 'local') {
    throw new Error(
      'files.driver "local" cannot serve a cluster (redis.url and database.url are set): ' +
        'set TUTTI_FILES_DRIVER=s3 and the files.s3 settings, so every node serves every file',
    );
  }
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
