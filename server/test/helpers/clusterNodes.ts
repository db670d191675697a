import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '@tutti/config';
import { buildApp } from '@tutti/server';
import type { ChatBus } from '../../src/chat/ChatBus.ts';
import type { LocalClusterHub } from '../../src/cluster/index.ts';

/** One Tutti node of an in-process cluster: its own worker pool, HTTP and media address. */
export interface InProcessNode {
  nodeId: string;
  app: FastifyInstance;
  wsUrl: string;
  url: string;
  stop(): Promise<void>;
}

export interface NodeSpec {
  nodeId: string;
  /** A loopback address of its own (HTTP and media listen there). */
  host: string;
  /** Shared by the nodes of a test (SQLite: a room made before a node starts is loaded). */
  dataDir: string;
  /** Shared hub (in process) or a Redis URL (then the hub is not used). */
  hub?: LocalClusterHub;
  redisUrl?: string;
  numWorkers?: number;
  overrides?: Record<string, unknown>;
  /** On the hub: one node's view of a bus the nodes share (chat crosses nodes). */
  chatBus?: ChatBus;
}

export function sharedDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tutti-cluster-media-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts a node with a short heartbeat (a node gone is noticed within about a second). */
export async function startNode(spec: NodeSpec): Promise<InProcessNode> {
  const emptyConfig = path.join(spec.dataDir, 'test-config.json');
  writeFileSync(emptyConfig, '{}');
  const logLevel = process.env.TUTTI_TEST_LOG ?? 'silent';
  const config = loadConfig(
    {
      server: { host: spec.host, port: 0, logLevel },
      media: { numWorkers: spec.numWorkers ?? 1, listenIp: spec.host },
      data: { dir: spec.dataDir },
      cluster: { nodeId: spec.nodeId, heartbeatMs: 200, nodeTimeoutMs: 1000, rpcTimeoutMs: 1500 },
      ...(spec.redisUrl && { redis: { url: spec.redisUrl } }),
      ...spec.overrides,
    },
    { TUTTI_CONFIG: emptyConfig },
  );
  const app = await buildApp(config, {
    logger: logLevel === 'silent' ? false : { level: logLevel },
    ...(spec.hub && { clusterHub: spec.hub }),
    ...(spec.chatBus && { chatBus: spec.chatBus }),
  });
  await app.listen({ host: spec.host, port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no TCP address');
  const url = `http://${spec.host}:${addr.port}`;
  return {
    nodeId: spec.nodeId,
    app,
    url,
    wsUrl: `ws://${spec.host}:${addr.port}/ws`,
    stop: () => app.close(),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 50 ms; throws after `timeoutMs`. */
export async function until(what: string, cond: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
