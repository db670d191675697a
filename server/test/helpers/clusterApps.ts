import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '@tutti/config';
import { WorkerPool } from '@tutti/media-workers';
import { buildApp } from '@tutti/server';
import type { ChatBus } from '../../src/chat/ChatBus.ts';
import { LocalChatBus } from '../../src/chat/LocalChatBus.ts';
import { LocalClusterHub, type RegistryStore } from '../../src/cluster/index.ts';

/**
 * A hub on which a node can be frozen: its heartbeats stop reaching the registry and its entry
 * is not removed (with `registry.stop()` the node also stops scanning): a death to the others.
 */
export class FreezableHub extends LocalClusterHub {
  readonly frozen = new Set<string>();

  override registryStore(): RegistryStore {
    const store = super.registryStore();
    return {
      ...store,
      // Frozen: nothing written; the node is told its entry was there (so it does not think
      // itself reaped while frozen, only once thawed).
      beat: async (info) =>
        this.frozen.has(info.nodeId) ? JSON.stringify(info) : store.beat(info),
      // A frozen node's entry stays, stale, until the others declare it gone.
      remove: async (nodeId) => (this.frozen.has(nodeId) ? false : store.remove(nodeId)),
    };
  }
}

export interface ClusterApp {
  nodeId: string;
  url: string;
  wsUrl: string;
  app: FastifyInstance;
  config: Config;
  stop(): Promise<void>;
}

export interface ClusterApps {
  nodes: ClusterApp[];
  pool: WorkerPool;
  stop(): Promise<void>;
}

/** Fast failure detection for tests: a node silent for 1 s is gone. */
export const FAST_CLUSTER = { heartbeatMs: 200, nodeTimeoutMs: 1000, rpcTimeoutMs: 1500 };

/** One node in this process: where it listens and what it shares with the others. */
export interface AppNodeSpec {
  nodeId: string;
  /** A loopback address (HTTP and media listen there). */
  host: string;
  /** Its SQLite records (shared by the nodes of a test on the hub). */
  dataDir: string;
  /** Merged over the test defaults (one worker, fast failure detection). */
  overrides?: Record<string, unknown>;
  hub?: LocalClusterHub;
  workerPool?: WorkerPool;
  chatBus?: ChatBus;
}

/** Builds and starts one node (config from `spec` alone: an empty TUTTI_CONFIG file). */
export async function startAppNode(spec: AppNodeSpec): Promise<ClusterApp> {
  const emptyConfig = path.join(spec.dataDir, 'test-config.json');
  writeFileSync(emptyConfig, '{}');
  const { nodeId, host } = spec;
  const base = {
    server: { host, port: 0, logLevel: process.env.TUTTI_TEST_LOG ?? 'silent' },
    media: { numWorkers: 1, listenIp: host },
    data: { dir: spec.dataDir },
    cluster: { nodeId, ...FAST_CLUSTER },
  };
  const config = loadConfig(deepMerge(base, spec.overrides ?? {}), { TUTTI_CONFIG: emptyConfig });
  const level = config.server.logLevel;
  const app = await buildApp(config, {
    logger: level === 'silent' ? false : { level },
    ...(spec.workerPool && { workerPool: spec.workerPool }),
    ...(spec.hub && { clusterHub: spec.hub }),
    ...(spec.chatBus && { chatBus: spec.chatBus }),
  });
  await app.listen({ host, port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no TCP address');
  let stopped: Promise<void> | undefined;
  return {
    nodeId,
    url: `http://${host}:${addr.port}`,
    wsUrl: `ws://${host}:${addr.port}/ws`,
    app,
    config,
    stop: () => (stopped ??= app.close().then(() => undefined)),
  };
}

/**
 * `n` Tutti apps in this process as nodes of one cluster: on `hub` (records shared through one
 * SQLite file) or, with `overrides.redis.url` and `overrides.database.url`, on Redis and
 * PostgreSQL. One worker pool for all of them (media is not what these tests are about).
 */
export async function startClusterApps(
  n: number,
  overrides: Record<string, unknown> = {},
  opts: { hub?: LocalClusterHub; prefix?: string } = {},
): Promise<ClusterApps> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tutti-presence-'));
  const pool = await WorkerPool.create({ numWorkers: 1 });
  const nodes: ClusterApp[] = [];
  const prefix = opts.prefix ?? `presence-${process.pid}-`;
  // On the hub, chat crosses "nodes" through one in-process bus (on Redis: RedisChatBus).
  const chat = opts.hub && new LocalChatBus();
  const secret = { files: { secret: 'presence-test-secret-0123456789' } };
  try {
    for (let i = 0; i < n; i++) {
      nodes.push(
        await startAppNode({
          nodeId: `${prefix}node${i + 1}`,
          host: '127.0.0.1',
          dataDir,
          overrides: deepMerge(secret, overrides),
          workerPool: pool,
          ...(opts.hub && { hub: opts.hub }),
          ...(chat && { chatBus: chatView(chat) }),
        }),
      );
    }
  } catch (err) {
    for (const node of nodes) await node.stop();
    pool.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    nodes,
    pool,
    async stop() {
      for (const node of nodes) await node.stop();
      pool.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function deepMerge(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    const both = [prev, v].every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));
    out[k] = both ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** One node's view of a shared bus: closing it drops only this node's subscriptions. */
export function chatView(shared: ChatBus): ChatBus {
  const mine = new Set<() => void>();
  return {
    publish: (message) => shared.publish(message),
    subscribe(handler) {
      const off = shared.subscribe(handler);
      mine.add(off);
      return () => {
        off();
        mine.delete(off);
      };
    },
    async close() {
      for (const off of mine) off();
      mine.clear();
    },
  };
}
