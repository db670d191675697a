import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { errorCodeOf, errorText, type GameSnapshot } from '@tutti/protocol';
import { TEST_REDIS_URL } from '../../../test/helpers/redisKeys.ts';
import { signalingMembers } from '../../../test/helpers/signalingMembers.ts';
import { sleep, until as waitUntil } from '../../../test/helpers/waits.ts';
import type { ClusterApp } from '../helpers/clusterApps.ts';
import {
  inProcessCluster,
  redisPostgresCluster,
  type ClusterEnv as Env,
} from '../helpers/clusterEnvs.ts';

// Shared by the cluster room-life tests (cluster.roomLife*.test.ts): nodes in process, on the
// in-process hub or on Redis + PostgreSQL, and members joining them.

export const REDIS = TEST_REDIS_URL;
export const CAPTIONS_IP = process.env.TUTTI_TEST_CAPTIONS_IP ?? '127.0.0.51';
export const captions = { listenIp: CAPTIONS_IP, maxStreams: 2 };

export type { Env };

const members = signalingMembers();
export const closers: (() => void)[] = [];

export const join = (node: ClusterApp, roomId: string, nickname: string, ownerSecret?: string) =>
  members.join(node, roomId, nickname, ownerSecret ? { ownerSecret } : {});
export type Joined = Awaited<ReturnType<typeof join>>;

export const createRoom = (node: ClusterApp, name: string) => members.createRoom(node, name);

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

export const until = (what: string, cond: () => boolean, timeoutMs = 10_000) =>
  waitUntil(what, cond, timeoutMs);

/** `n` nodes on one in-process hub (on which a node can be frozen: a death to the others). */
export async function inProcess(tag: string, n = 2): Promise<Env> {
  const env = await inProcessCluster(n, {
    tag,
    overrides: { captions },
    nodePrefix: `${tag}-${process.pid}-`,
  });
  return { ...env, close: () => env.close() };
}

/** `n` nodes on Redis + PostgreSQL (and an S3 server: the local files driver is refused). */
export async function onRedis(tag: string, n = 2): Promise<Env> {
  const nodePrefix = `${tag}-redis-${process.pid}-`;
  const env = await redisPostgresCluster(n, { tag, overrides: { captions }, nodePrefix });
  return { ...env, close: () => env.close() };
}

/** The env for the tests of a describe block: started before them, stopped after. */
export function useEnv(setup: () => Promise<Env>): { env: Env; nodes: ClusterApp[] } {
  const got = { env: undefined as unknown as Env, nodes: [] as ClusterApp[] };
  before(async () => {
    got.env = await setup();
    got.nodes = got.env.apps.nodes;
  });
  after(async () => {
    members.closeAll();
    for (const close of closers.splice(0)) close();
    await sleep(300);
    await got.env?.close();
  });
  return got;
}
