import { after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { TuttiError } from '@tutti/protocol';
import type { Logger } from '../../src/kernel/log.ts';
import type { Cluster, ClusterOptions, NodeInfo, RegistryStore } from '../../src/cluster/index.ts';
import { rpcKey } from '../../src/cluster/rpcSeal.ts';
import { seal } from '../../src/kernel/sealed.ts';

// What the cluster contract suite (integration/cluster.suite*.ts) shares: the test methods,
// the environment each implementation provides, and a fresh cluster per test.

export const testMethods = {
  echo: {
    request: z.object({ text: z.string().max(100) }),
    response: z.object({ text: z.string(), by: z.string(), from: z.string() }),
  },
  slow: { request: z.object({ ms: z.number().int().max(5000) }), response: z.object({}) },
  fail: { request: z.object({ tutti: z.boolean() }), response: z.object({}) },
  /** Its handler answers something that does not match the response schema. */
  lie: { request: z.object({}), response: z.object({ n: z.number() }) },
};
export type TestCluster = Cluster<typeof testMethods>;

/** The cluster secret the suite's nodes share (RPC envelopes are signed with it). */
export const CLUSTER_SECRET = 'cluster-contract-secret-0123456789';

/** What a node of the suite may be given besides its id. */
export type NodeExtra = Pick<ClusterOptions<typeof testMethods>, 'acceptFrom' | 'secret'> & {
  rpcReplayWindowMs?: number;
};

/** What each implementation provides to the one suite. */
export interface ClusterEnv {
  /** A node with its own connections, sharing this env's cluster (not started). */
  node(nodeId: string, log?: Logger, extra?: NodeExtra): TestCluster;
  /** A bare registry store (for a "node" that beats once and then crashes). */
  store(): RegistryStore;
  /** Puts a raw message on a node's RPC channel, bypassing every sender check. */
  inject(nodeId: string, raw: string): Promise<void>;
  /** Listens as a node without any checks: sees raw envelopes as they travel. */
  listenRaw(nodeId: string, onMessage: (raw: string) => void): Promise<void>;
  /** Writes a raw registry entry, seen just now. */
  putEntry(nodeId: string, raw: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A raw RPC payload signed as a node signs one, but of any body (malformed ones too): stamped
 * now unless the body has its own `ts`, with the suite's secret unless told another.
 */
export function signedRaw(body: object, secret: string = CLUSTER_SECRET): string {
  return seal({ ts: Date.now(), ...body }, rpcKey(secret));
}

/** The envelope inside a signed payload, unchecked (what a listener on Redis can read). */
export function openedRaw(raw: string): Record<string, unknown> {
  const { m } = JSON.parse(raw) as { m: string };
  return JSON.parse(m) as Record<string, unknown>;
}

export const TIMING = { heartbeatMs: 150, expiryMs: 1000 };

export interface CapturedLog extends Logger {
  lines: { level: string; obj: Record<string, unknown>; msg: string | undefined }[];
}

export function captureLog(): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  const log: CapturedLog = {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => log,
  };
  return log;
}

/** The reasons of the "dropped a bus message" lines of a log. */
export const dropReasons = (log: CapturedLog): unknown[] =>
  log.lines.filter((l) => l.msg === 'cluster: dropped a bus message').map((l) => l.obj.reason);

export function selfInfo(nodeId: string): Pick<NodeInfo, 'nodeId' | 'httpUrl' | 'mediaAddress'> {
  return { nodeId, httpUrl: `http://${nodeId}.test:3000`, mediaAddress: '127.0.0.1' };
}

export function withHandlers(node: TestCluster): TestCluster {
  node.rpc.handle('echo', (data, ctx) => ({ text: data.text, by: node.nodeId, from: ctx.from }));
  node.rpc.handle('slow', async ({ ms }) => {
    await sleep(ms);
    return {};
  });
  node.rpc.handle('fail', ({ tutti }) => {
    if (tutti) throw new TuttiError('ROOM_FULL', 'room is full');
    throw new Error('secret internals');
  });
  node.rpc.handle('lie', () => ({ n: 'not a number' }) as unknown as { n: number });
  return node;
}

export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 3000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(20);
  }
  assert.fail(`timed out waiting for ${what}`);
}

export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Error);
    return err;
  }
  assert.fail('expected a rejection');
}

/** A fresh cluster per test, and everything made stopped after the suite. */
export interface ContractFixture {
  /** Nodes a and b (started, with handlers), the env, a run id and a maker of more nodes. */
  setup(logs?: Record<string, Logger>): Promise<{
    env: ClusterEnv;
    a: TestCluster;
    b: TestCluster;
    id: string;
    make: (n: string) => Promise<TestCluster>;
  }>;
  /** Registers a node to stop after the suite. */
  track(node: TestCluster): TestCluster;
}

let runs = 0;

/** Call inside a describe(): its after() stops every node and env the tests made. */
export function contractFixture(makeEnv: () => Promise<ClusterEnv>): ContractFixture {
  const envs: ClusterEnv[] = [];
  const nodes: TestCluster[] = [];
  after(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await Promise.allSettled(envs.map((e) => e.close()));
  });
  const track = (node: TestCluster) => {
    nodes.push(node);
    return node;
  };
  return {
    track,
    async setup(logs = {}) {
      const env = await makeEnv();
      envs.push(env);
      const id = `r${runs++}`;
      const make = async (n: string) => {
        const node = track(withHandlers(env.node(`${n}-${id}`, logs[n])));
        await node.start();
        return node;
      };
      const a = await make('a');
      const b = await make('b');
      return { env, a, b, id, make };
    },
  };
}
