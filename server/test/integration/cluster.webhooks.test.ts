/**
 * room_started and room_finished once per run of a room across the cluster (issue 9;
 * federation/roomSessions.ts): a room spread over two nodes starts with its first member on
 * either node and finishes with its last, however the members come and go, joins racing on
 * both nodes included, and when a node dies with the last members the node that sees it
 * gone finishes the room, once. Participant events stay each node's. Two nodes in this
 * process with their own HTTP and media addresses and a real HTTP receiver; once on the
 * in-process hub (the death: a frozen node; and one frozen for a while and back: its room
 * finished, then started again) and once on Redis + PostgreSQL (the death: a node that drops
 * out of the registry with its members inside).
 *
 * TUTTI_TEST_CLUSTER_HOSTS overrides the addresses (node A, node B, the webhook receiver).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkerPool } from '@tutti/media-workers';
import { LocalChatBus } from '../../src/chat/LocalChatBus.ts';
import { dropRedisKeys, TEST_REDIS_URL } from '../../../test/helpers/redisKeys.ts';
import { sleep, until } from '../../../test/helpers/waits.ts';
import {
  chatView,
  deepMerge,
  FreezableHub,
  startAppNode,
  type ClusterApp,
} from '../helpers/clusterApps.ts';
import { createTestSchema } from '../helpers/pgSchema.ts';
import { connectRaw, type RawClient } from '../helpers/rawSignaling.ts';
import { startS3rver } from '../helpers/storageS3rver.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver.ts';

const [HOST_A, HOST_B, HOST_HOOKS] = (
  process.env.TUTTI_TEST_CLUSTER_HOSTS ?? '127.0.0.2,127.0.0.3,127.0.0.4'
).split(',') as [string, string, string];
const SECRET = 'cluster-webhooks-secret-0123456789';

interface Env {
  a: ClusterApp;
  b: ClusterApp;
  /** Takes node B out as a death does: no goodbye, its members still inside. */
  kill(): Promise<void>;
  /** On the hub: B's heartbeats stop reaching the registry (true) or again (false). */
  freeze?(frozen: boolean): void;
  close(): Promise<void>;
}

interface Hook {
  event: string;
  room: { id: string; name: string };
  participant?: { id: string };
}

/** Two nodes (A, B) on `shared` (the hub, or Redis + PostgreSQL + S3 overrides). */
async function twoNodes(
  hooksUrl: string,
  shared: { hub?: FreezableHub; overrides?: Record<string, unknown> },
  kill: (b: ClusterApp) => Promise<void>,
): Promise<Env> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tutti-cluster-webhooks-'));
  const pool = await WorkerPool.create({ numWorkers: 1 });
  const bus = shared.hub && new LocalChatBus();
  const overrides = deepMerge(
    {
      files: { secret: SECRET },
      webhooks: { urls: [hooksUrl], secret: SECRET, backoffMs: 50 },
      // Patient on a loaded machine: a slow heartbeat is no death, a slow Redis no failure.
      cluster: { heartbeatMs: 300, nodeTimeoutMs: 3000, rpcTimeoutMs: 5000 },
    },
    shared.overrides ?? {},
  );
  const node = (nodeId: string, host: string) =>
    startAppNode({
      nodeId,
      host,
      dataDir,
      overrides,
      workerPool: pool,
      ...(shared.hub && { hub: shared.hub }),
      ...(bus && { chatBus: chatView(bus) }),
    });
  const a = await node(`hooks-${process.pid}-a`, HOST_A);
  const b = await node(`hooks-${process.pid}-b`, HOST_B);
  return {
    a,
    b,
    kill: () => kill(b),
    async close() {
      await b.stop();
      await a.stop();
      pool.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function suite(variant: string, setup: (hooksUrl: string) => Promise<Env>): void {
  describe(`room webhooks across nodes (${variant})`, () => {
    let hooks: WebhookReceiver;
    let env: Env;
    const open: RawClient[] = [];

    before(async () => {
      hooks = await startWebhookReceiver(() => 204, HOST_HOOKS);
      env = await setup(hooks.url);
    });
    after(async () => {
      for (const c of open) c.ws.terminate();
      await env?.close();
      await hooks?.close();
    });

    const hooksOf = (roomId: string): Hook[] =>
      hooks.received.map((r) => JSON.parse(r.body) as Hook).filter((h) => h.room.id === roomId);
    const count = (roomId: string, event: string) =>
      hooksOf(roomId).filter((h) => h.event === event).length;
    const client = async (node: ClusterApp) => {
      const c = await connectRaw(node.wsUrl, { requestTimeoutMs: 15_000 });
      open.push(c);
      return c;
    };
    const createRoom = async (name: string) => {
      const owner = await client(env.a);
      const { room } = await owner.request('room.create', { name: `${name} ${variant}` });
      owner.ws.close(1000);
      return room.id;
    };
    const join = async (node: ClusterApp, roomId: string, nickname: string) => {
      const c = await client(node);
      const { self } = await c.request('room.join', { roomId, nickname });
      return { c, id: self.id };
    };
    /** Waits for `n` of `event` in the room, then a moment for any extra one to arrive. */
    const settle = async (roomId: string, event: string, n: number) => {
      await until(`${n} ${event}`, () => count(roomId, event) >= n, 10_000);
      await sleep(400);
    };

    test('join on A, join on B, leave A, leave B: one start, one finish, in order', async () => {
      const roomId = await createRoom('Spread');
      const ann = await join(env.a, roomId, 'Ann');
      await settle(roomId, 'participant_joined', 1);
      const ben = await join(env.b, roomId, 'Ben');
      await settle(roomId, 'participant_joined', 2);
      await ann.c.request('room.leave', {});
      await settle(roomId, 'participant_left', 1);
      assert.equal(count(roomId, 'room_finished'), 0, 'Ben is still in the room (on B)');
      await ben.c.request('room.leave', {});
      await settle(roomId, 'room_finished', 1);
      const seen = hooksOf(roomId).map((h) => `${h.event} ${h.participant?.id ?? '-'}`);
      assert.deepEqual(seen, [
        'room_started -',
        `participant_joined ${ann.id}`,
        `participant_joined ${ben.id}`,
        `participant_left ${ann.id}`,
        `participant_left ${ben.id}`,
        'room_finished -',
      ]);
      const names = hooksOf(roomId).map((h) => h.room.name);
      assert.ok(
        names.every((n) => n === `Spread ${variant}`),
        names.join(),
      );
    });

    test('first joins racing on both nodes: one start; last leaves racing: one finish', async () => {
      for (let round = 0; round < 4; round++) {
        const roomId = await createRoom(`Race ${round}`);
        const [x, y] = await Promise.all([join(env.a, roomId, 'Xia'), join(env.b, roomId, 'Yuri')]);
        await settle(roomId, 'participant_joined', 2);
        assert.equal(count(roomId, 'room_started'), 1, `round ${round}: one room_started`);
        await Promise.all([x.c.request('room.leave', {}), y.c.request('room.leave', {})]);
        await settle(roomId, 'room_finished', 1);
        assert.equal(count(roomId, 'room_finished'), 1, `round ${round}: one room_finished`);
        // Across nodes no order is promised: the other node's participant_joined may reach
        // the receiver before the winner's room_started (two senders).
      }
    });

    test('a room emptied and filled again is a new run: started, finished, started', async () => {
      const roomId = await createRoom('Again');
      const ann = await join(env.b, roomId, 'Ann');
      await ann.c.request('room.leave', {});
      await settle(roomId, 'room_finished', 1);
      await join(env.a, roomId, 'Ann');
      await settle(roomId, 'room_started', 2);
      const runs = hooksOf(roomId)
        .map((h) => h.event)
        .filter((e) => e.startsWith('room_'));
      assert.deepEqual(runs, ['room_started', 'room_finished', 'room_started']);
    });

    test('a node taken for dead and back: its room finished, then started again', async (t) => {
      if (!env.freeze) return t.skip('the hub freezes a node');
      const roomId = await createRoom('Frozen');
      await join(env.b, roomId, 'Ben');
      await settle(roomId, 'participant_joined', 1);
      env.freeze(true);
      await until('room_finished', () => count(roomId, 'room_finished') === 1, 10_000);
      env.freeze(false); // Its next beat finds its entry reaped: selfReinstated.
      await settle(roomId, 'room_started', 2);
      const runs = hooksOf(roomId)
        .map((h) => h.event)
        .filter((e) => e.startsWith('room_'));
      assert.deepEqual(runs, ['room_started', 'room_finished', 'room_started']);
    });

    // Last: node B is gone afterwards.
    test('a node dies with the last members: its room finishes once, within 10 s', async () => {
      const roomId = await createRoom('Death');
      const ann = await join(env.a, roomId, 'Ann');
      await join(env.b, roomId, 'Ben');
      await join(env.b, roomId, 'Bo');
      await settle(roomId, 'participant_joined', 3);
      await ann.c.request('room.leave', {});
      await settle(roomId, 'participant_left', 1);
      assert.equal(count(roomId, 'room_finished'), 0, 'Ben and Bo are still in (on B)');
      const died = Date.now();
      await env.kill();
      await until('room_finished', () => count(roomId, 'room_finished') === 1, 10_000);
      assert.ok(Date.now() - died < 10_000);
      await env.b.stop(); // Its members leave now, as it closes: no second finish.
      await sleep(500);
      assert.equal(count(roomId, 'room_started'), 1);
      assert.equal(count(roomId, 'room_finished'), 1);
    });
  });
}

suite('in process', async (url) => {
  const hub = new FreezableHub();
  const env = await twoNodes(url, { hub }, async (b) => {
    // Its heartbeats stop and its entry goes stale: as good as dead to the others.
    hub.frozen.add(b.nodeId);
    await b.app.tutti.cluster.registry.stop();
  });
  const freeze = (frozen: boolean) => void hub.frozen[frozen ? 'add' : 'delete'](env.b.nodeId);
  return { ...env, freeze };
});

suite('Redis + PostgreSQL', async (url) => {
  const redisPrefix = `tutti:h-webhooks-test-${process.pid}:`;
  const schema = await createTestSchema();
  const s3 = await startS3rver();
  const env = await twoNodes(
    url,
    {
      overrides: {
        redis: { url: TEST_REDIS_URL },
        database: { url: schema.url },
        files: { driver: 's3', s3: { ...s3.settings('webhooks'), createBucket: true } },
        cluster: { redisPrefix },
      },
    },
    // Out of the registry without a word, its members still inside (no leave reaches Redis).
    (b) => b.app.tutti.cluster.registry.stop(),
  );
  return {
    ...env,
    async close() {
      await env.close();
      await s3.stop();
      await schema.drop();
      await dropRedisKeys(redisPrefix);
    },
  };
});
