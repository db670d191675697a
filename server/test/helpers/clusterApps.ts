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
  const emptyConfig = path.join(dataDir, 'test-config.json');
  writeFileSync(emptyConfig, '{}');
  const pool = await WorkerPool.create({ numWorkers: 1 });
  const nodes: ClusterApp[] = [];
  const prefix = opts.prefix ?? `presence-${process.pid}-`;
  // On the hub, chat crosses "nodes" through one in-process bus (on Redis: RedisChatBus).
  const chat = opts.hub && new LocalChatBus();
  try {
    for (let i = 0; i < n; i++) {
      const nodeId = `${prefix}node${i + 1}`;
      const base = {
        server: { host: '127.0.0.1', port: 0, logLevel: process.env.TUTTI_TEST_LOG ?? 'silent' },
        media: { numWorkers: 1, listenIp: '127.0.0.1' },
        data: { dir: dataDir },
        files: { secret: 'presence-test-secret-0123456789' },
        cluster: { nodeId, ...FAST_CLUSTER },
      };
      const config = loadConfig(deepMerge(base, overrides), { TUTTI_CONFIG: emptyConfig });
      const level = config.server.logLevel;
      const app = await buildApp(config, {
        logger: level === 'silent' ? false : { level },
        workerPool: pool,
        ...(opts.hub && { clusterHub: opts.hub }),
        ...(chat && { chatBus: chatView(chat) }),
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const addr = app.server.address();
      if (!addr || typeof addr === 'string') throw new Error('no TCP address');
      const url = `http://127.0.0.1:${addr.port}`;
      let stopped: Promise<void> | undefined;
      nodes.push({
        nodeId,
        url,
        wsUrl: `ws://127.0.0.1:${addr.port}/ws`,
        app,
        config,
        stop: () => (stopped ??= app.close().then(() => undefined)),
      });
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

function deepMerge(
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
