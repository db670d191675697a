import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import ndc from 'node-datachannel';
import { Redis } from 'ioredis';
import { errorCodeOf, errorText, type GameSnapshot } from '@tutti/protocol';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import {
  FreezableHub,
  startClusterApps,
  type ClusterApp,
  type ClusterApps,
} from '../helpers/clusterApps.ts';
import { createTestSchema, type TestSchema } from '../helpers/pgSchema.ts';
import { startS3rver } from '../helpers/storageS3rver.ts';
import { sleep } from './bot.ts';

// Shared by the cluster room-life tests (cluster.roomLife*.test.ts): nodes in process, on the
// in-process hub or on Redis + PostgreSQL, and members joining them.

export const REDIS = process.env.TUTTI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const CAPTIONS_IP = process.env.TUTTI_TEST_CAPTIONS_IP ?? '127.0.0.51';
export const captions = { listenIp: CAPTIONS_IP, maxStreams: 2 };

export interface Env {
  apps: ClusterApps;
  hub?: FreezableHub;
  /** Redis + PostgreSQL: what a node started later joins the cluster with. */
  overrides?: Record<string, unknown>;
  redisPrefix?: string;
  close(): Promise<void>;
}

export const clients: SignalingClient[] = [];
export const closers: (() => void)[] = [];

export async function join(
  node: ClusterApp,
  roomId: string,
  nickname: string,
  ownerSecret?: string,
) {
  const client = await connectSignaling(node.wsUrl);
  clients.push(client);
  const answer = await client.request('room.join', {
    roomId,
    nickname,
    ...(ownerSecret && { ownerSecret }),
  });
  return { client, answer, id: answer.self.id };
}
export type Joined = Awaited<ReturnType<typeof join>>;

export async function createRoom(node: ClusterApp, name: string) {
  const c = await connectSignaling(node.wsUrl);
  const r = await c.request('room.create', { name });
  c.close();
  return { roomId: r.room.id, ownerSecret: r.ownerSecret };
}

/** Asserts a request is refused with `code: refusal: …`. */
export async function refused(p: Promise<unknown>, code: string, refusal: string): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.equal(errorCodeOf(e), code, String(e));
    assert.ok(errorText(e).startsWith(refusal), String(e));
    return true;
  });
}

export const state = async (m: Joined): Promise<GameSnapshot | null> =>
  (await m.client.request('game.state', {})).game;

export async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** `n` nodes on one in-process hub (on which a node can be frozen: a death to the others). */
export async function inProcess(tag: string, n = 2): Promise<Env> {
  const hub = new FreezableHub();
  const prefix = `${tag}-${process.pid}-`;
  const apps = await startClusterApps(n, { captions }, { hub, prefix });
  return { apps, hub, close: () => apps.stop().then(() => ndc.cleanup()) };
}

/** `n` nodes on Redis + PostgreSQL (and an S3 server: the local files driver is refused). */
export async function onRedis(tag: string, n = 2): Promise<Env> {
  const redisPrefix = `tutti:${tag}-test-${process.pid}:`;
  const schema: TestSchema = await createTestSchema();
  const s3 = await startS3rver();
  const overrides = {
    redis: { url: REDIS },
    database: { url: schema.url },
    files: { driver: 's3', s3: { ...s3.settings(tag), createBucket: true } },
    cluster: { redisPrefix },
    captions,
  };
  const apps = await startClusterApps(n, overrides, { prefix: `${tag}-redis-${process.pid}-` });
  return {
    apps,
    overrides,
    redisPrefix,
    async close() {
      await apps.stop();
      ndc.cleanup();
      await s3.stop();
      await schema.drop();
      const admin = new Redis(REDIS);
      const keys = await admin.keys(`${redisPrefix}*`);
      if (keys.length) await admin.del(...keys);
      await admin.quit();
    },
  };
}

/** The env for the tests of a describe block: started before them, stopped after. */
export function useEnv(setup: () => Promise<Env>): { env: Env; nodes: ClusterApp[] } {
  const got = { env: undefined as unknown as Env, nodes: [] as ClusterApp[] };
  before(async () => {
    got.env = await setup();
    got.nodes = got.env.apps.nodes;
  });
  after(async () => {
    for (const cl of clients.splice(0)) cl.close();
    for (const close of closers.splice(0)) close();
    await sleep(300);
    await got.env?.close();
  });
  return got;
}
