import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { LocalClusterHub } from '../../src/cluster/index.ts';
import { startClusterApps, type ClusterApp, type ClusterApps } from '../helpers/clusterApps.ts';
import { rejectCode, sleep } from './bot.ts';

// A node that crashes and comes back under the same node id: the people who waited on it
// are gone with their connections, yet its past life's entries stayed on the rooms' shared
// waiting lists (moderation/sharedState.ts). The node back takes them off at start-up and
// the other nodes' moderators are told the list again, without the ghosts. On the hub and on
// Redis (federation/roomWideState.ts), with real apps; the crash skips the node's clean-up.

const REDIS = process.env.TUTTI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const HOST = process.env.TUTTI_TEST_CLUSTER_HOSTS?.split(',')[0] ?? '127.0.0.1';

const clients: SignalingClient[] = [];
after(() => {
  for (const c of clients) c.close();
});

async function connect(node: ClusterApp, address: string): Promise<SignalingClient> {
  const c = await connectSignaling(node.wsUrl, 10_000, { headers: { 'x-forwarded-for': address } });
  clients.push(c);
  return c;
}

/** "kill -9": the node stops without taking anyone off the shared lists. */
async function crash(apps: ClusterApps): Promise<void> {
  const state = apps.nodes[0]!.app.tutti.cluster.moderationState;
  const unknock = state.unknock;
  state.unknock = async () => {};
  try {
    await apps.stop();
  } finally {
    state.unknock = unknock;
  }
}

function suite(variant: string, overrides: Record<string, unknown>, hub?: LocalClusterHub): void {
  describe(`a node restarted under its id (${variant})`, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-waiting-restart-'));
    const running: ClusterApps[] = [];
    after(async () => {
      for (const apps of running) await apps.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const base = {
      ...overrides,
      data: { dir }, // The room records, shared by the nodes (SQLite).
      server: { trustProxy: '127.0.0.1' },
      media: { listenIp: HOST },
    };
    /** One node; the same `name` gives the same node id. */
    const node = async (name: string) => {
      const apps = await startClusterApps(1, base, {
        ...(hub && { hub }),
        prefix: `wr-${variant}-${process.pid}-${name}-`,
      });
      running.push(apps);
      return { apps, node: apps.nodes[0]! };
    };

    test('its past life’s waiting people are taken off the lists; moderators see no ghost', async () => {
      const { node: a } = await node('a');
      const first = await node('b');
      const b1 = first.node;
      const olga = await connect(a, '10.0.17.1');
      const created = await olga.request('room.create', { name: `Waiting ${variant}` });
      const roomId = created.room.id;
      await olga.request('room.join', {
        roomId,
        nickname: 'Olga',
        ownerSecret: created.ownerSecret,
      });
      await olga.request('moderation.settings', { waitingRoom: true });
      const wes = await connect(b1, '10.0.17.2');
      assert.equal(
        await rejectCode(wes.request('room.join', { roomId, nickname: 'Wes' })),
        'WAITING',
      );
      await olga.nextNotification('moderation.waiting', (d) =>
        d.waiting.some((p) => p.nickname === 'Wes'),
      );

      await crash(first.apps);
      running.splice(running.indexOf(first.apps), 1);
      const shared = a.app.tutti.cluster.moderationState;
      const left = await shared.waiting(roomId);
      assert.deepEqual(
        left.map((e) => [e.nickname, e.nodeId]),
        [['Wes', b1.nodeId]],
        'the crash left Wes on the list',
      );

      await sleep(600); // What the crash set going has reached Olga (A has seen B go).
      olga.clearNotifications();
      const { node: b2 } = await node('b');
      assert.equal(b2.nodeId, b1.nodeId, 'back under the same id');
      assert.deepEqual(await shared.waiting(roomId), [], 'cleared before it took anyone');
      const told = await olga.nextNotification('moderation.waiting');
      assert.deepEqual(told.waiting, [], 'the moderator on A is told the list without Wes');

      // Its new life's waiting people are listed as ever.
      const dee = await connect(b2, '10.0.17.3');
      assert.equal(
        await rejectCode(dee.request('room.join', { roomId, nickname: 'Dee' })),
        'WAITING',
      );
      const listed = await olga.nextNotification('moderation.waiting', (d) => d.waiting.length > 0);
      assert.deepEqual(
        listed.waiting.map((p) => p.nickname),
        ['Dee'],
      );
    });
  });
}

suite('hub', {}, new LocalClusterHub());

const prefix = `tutti:waiting-restart-${process.pid}:`;
suite('Redis', { redis: { url: REDIS }, cluster: { redisPrefix: prefix } });
after(async () => {
  const redis = new Redis(REDIS, { maxRetriesPerRequest: 1 });
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});
