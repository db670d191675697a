import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ChatBus } from '../../src/chat/ChatBus.ts';
import type { LocalClusterHub } from '../../src/cluster/index.ts';
import { deepMerge, startAppNode } from './clusterApps.ts';

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
  const own = {
    media: { numWorkers: spec.numWorkers ?? 1 },
    ...(spec.redisUrl && { redis: { url: spec.redisUrl } }),
  };
  return startAppNode({
    nodeId: spec.nodeId,
    host: spec.host,
    dataDir: spec.dataDir,
    overrides: deepMerge(own, spec.overrides ?? {}),
    ...(spec.hub && { hub: spec.hub }),
    ...(spec.chatBus && { chatBus: spec.chatBus }),
  });
}

export { sleep, until } from '../../../test/helpers/waits.ts';
