import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { dropRedisKeys, TEST_REDIS_URL as REDIS } from '../../../test/helpers/redisKeys.ts';
import { signalingMembers } from '../../../test/helpers/signalingMembers.ts';
import { rpcKey } from '../../src/cluster/rpcSeal.ts';
import { seal } from '../../src/kernel/sealed.ts';
import { startClusterApps, type ClusterApp, type ClusterApps } from '../helpers/clusterApps.ts';
import { sleep } from './bot.ts';

// Issue 10 (defect 4) for the cluster's requests: a moderation request published straight
// onto a node's Redis channel, as anyone who reaches Redis can, is not executed unless it is
// signed with the cluster secret and fresh. Two real nodes on Redis; the forger is this test.

const HOST = process.env.TUTTI_TEST_CLUSTER_HOSTS?.split(',')[0] ?? '127.0.0.1';
const prefix = `tutti:rpc-forgery-${process.pid}:`;

let apps: ClusterApps;
let a: ClusterApp, b: ClusterApp;
const redis = new Redis(REDIS, { maxRetriesPerRequest: 1 });
const members = signalingMembers();

before(async () => {
  apps = await startClusterApps(
    2,
    { redis: { url: REDIS }, cluster: { redisPrefix: prefix }, media: { listenIp: HOST } },
    { prefix: `forgery-${process.pid}-` },
  );
  [a, b] = apps.nodes as [ClusterApp, ClusterApp];
});

after(async () => {
  members.closeAll();
  await apps?.stop();
  await dropRedisKeys(prefix);
  await redis.quit();
});

const connect = (node: ClusterApp) => members.connect(node);

test('a forged moderation.relay on a node’s Redis channel removes nobody; a signed, fresh one does', async () => {
  const olga = await connect(a);
  const created = await olga.request('room.create', { name: 'Forgery' });
  const roomId = created.room.id;
  const owner = await olga.request('room.join', {
    roomId,
    nickname: 'Olga',
    ownerSecret: created.ownerSecret,
  });
  const ben = await connect(b);
  const joined = await ben.request('room.join', { roomId, nickname: 'Ben' });
  const benSelf = joined.self;
  // Node B knows Olga as the owner on node A: a relay "from A" for her is one B would run.
  assert.ok(joined.peers.some((p) => p.id === owner.self.id && p.role === 'owner'));
  await olga.nextNotification('room.peerJoined', (d) => d.peer.id === benSelf.id);
  const envelope = (id: string) => ({
    v: 1,
    kind: 'req',
    id,
    from: a.nodeId,
    to: b.nodeId,
    method: 'moderation.relay',
    data: {
      roomId,
      actorId: owner.self.id,
      targetId: benSelf.id,
      action: { kind: 'remove', ban: true },
    },
  });
  const channel = `${prefix}rpc:${b.nodeId}`;
  const key = rpcKey(b.config.files.secret!);
  const benThere = () => b.app.tutti.rooms.get(roomId)?.member(benSelf.id) !== undefined;

  // Unsigned (what every node sent before), signed with another secret, signed but old.
  const forgeries = [
    JSON.stringify(envelope('unsigned')),
    seal({ ...envelope('foreign'), ts: Date.now() }, rpcKey('some-other-secret-0123456789')),
    seal({ ...envelope('stale'), ts: Date.now() - 120_000 }, key),
  ];
  for (const raw of forgeries) assert.equal(await redis.publish(channel, raw), 1, 'B listens');
  await sleep(800);
  assert.ok(benThere(), 'Ben is still in the room');
  assert.ok(!ben.notifications.some((n) => n.method === 'moderation.removed'));

  // The same request signed with the cluster secret, now: node B runs it.
  await redis.publish(channel, seal({ ...envelope('signed'), ts: Date.now() }, key));
  const removed = await ben.nextNotification('moderation.removed');
  assert.deepEqual(removed, { by: 'Olga', banned: true });
});
