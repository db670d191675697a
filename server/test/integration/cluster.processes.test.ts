import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { PublisherBot } from '../../../test/load/bots.ts';
import { countingSubscriber } from '../helpers/countingSubscriber.ts';
import { loadOpusFixture, loadVp8Fixture } from '../../../test/load/rtp.ts';
import { TuttiSignaling } from '../../../test/load/signaling.ts';
import {
  startClusterProcesses,
  type ClusterNodeProcess,
  type ClusterProcesses,
} from '../../../test/helpers/clusterProcesses.ts';
import { TEST_REDIS_URL as REDIS } from '../../../test/helpers/redisKeys.ts';
import { signalingMembers } from '../../../test/helpers/signalingMembers.ts';

// Issue 9's cluster test: three `server/src/main.ts` processes on 127.0.0.2, .3 and .4,
// configured by environment alone, sharing a real Redis and a PostgreSQL database created
// here. Chat and presence cross nodes; concurrent joins through two nodes never pass the
// capacity; node-datachannel bots on different nodes exchange RTP (counted per stream);
// kill -9 a node and the others see its members leave within 10 s; SIGTERM drains.
// TUTTI_TEST_CLUSTER_HOSTS overrides the hosts (comma-separated).
const HOSTS = (process.env.TUTTI_TEST_CLUSTER_HOSTS ?? '127.0.0.2,127.0.0.3,127.0.0.4').split(',');

let cluster: ClusterProcesses;
let n1: ClusterNodeProcess, n2: ClusterNodeProcess, n3: ClusterNodeProcess;
const members = signalingMembers();
const member = members.join;
const createRoom = async (node: ClusterNodeProcess, name: string, capacity?: number) =>
  (await members.createRoom(node, name, capacity ? { capacity } : {})).roomId;

before(async () => {
  cluster = await startClusterProcesses({
    hosts: HOSTS,
    env: { TUTTI_SERVER_DRAIN_GRACE_SECONDS: '5' },
    readyTimeoutMs: 45_000, // Three processes starting on two busy cores.
  });
  [n1, n2, n3] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess, ClusterNodeProcess];
});

after(async () => {
  members.closeAll();
  await cluster?.stop();
});

test('three nodes from environment alone: ready, and one cluster in Redis', async () => {
  for (const n of cluster.nodes) assert.equal((await fetch(`${n.url}/api/ready`)).status, 200);
  const redis = new Redis(REDIS);
  try {
    const ids = await redis.hkeys(`${cluster.redisPrefix}nodes:info`);
    assert.deepEqual(ids.sort(), cluster.nodes.map((n) => n.nodeId).sort());
  } finally {
    await redis.quit();
  }
});

test('chat, private messages and presence cross nodes', async () => {
  const roomId = await createRoom(n1, 'Across');
  const ann = await member(n1, roomId, 'Ann');
  const ben = await member(n2, roomId, 'Ben');
  const cid = await member(n3, roomId, 'Cid');
  assert.deepEqual(cid.answer.peers.map((p) => p.nickname).sort(), ['Ann', 'Ben']);
  await ann.client.nextNotification('room.peerJoined', (d) => d.peer.id === cid.id);
  await ann.client.request('chat.send', { text: 'hi from node 1' });
  for (const m of [ben, cid]) {
    const got = await m.client.nextNotification('chat.message');
    assert.equal(got.message.text, 'hi from node 1');
  }
  await ben.client.request('chat.send', { text: 'psst', to: cid.id });
  const pm = await cid.client.nextNotification('chat.message', (d) => d.message.text === 'psst');
  assert.equal(pm.message.to?.peerId, cid.id);
  ben.client.close();
  await cid.client.nextNotification('room.peerLeft', (d) => d.peerId === ben.id);
  const list = (await (await fetch(`${n3.url}/api/rooms`)).json()) as {
    rooms: { id: string; peers: number }[];
  };
  assert.equal(list.rooms.find((r) => r.id === roomId)?.peers, 2);
});

test('concurrent joins through two nodes never pass the capacity', async () => {
  const roomId = await createRoom(n2, 'Capacity', 4);
  const tries = await Promise.allSettled(
    Array.from({ length: 12 }, (_, i) => member(i % 2 ? n1 : n2, roomId, `P${i}`)),
  );
  const ok = tries.filter((t) => t.status === 'fulfilled').length;
  assert.equal(ok, 4);
  for (const t of tries) if (t.status === 'rejected') assert.match(String(t.reason), /ROOM_FULL/);
});

test('bots on different nodes exchange RTP, counted per stream', async () => {
  const roomId = await createRoom(n1, 'Media across processes');
  const video = loadVp8Fixture();
  const audio = loadOpusFixture();
  const closers: (() => void)[] = [];
  /** A subscriber whose consumer offers are kept, to count packets by producer. */
  const subscriber = async (node: ClusterNodeProcess, name: string) => {
    const bot = await countingSubscriber(node.wsUrl, roomId, name, '127.0.0.1');
    closers.push(() => bot.close());
    return (producerId: string): number => bot.packets(producerId);
  };
  const publisher = async (node: ClusterNodeProcess, name: string) => {
    const sig = await TuttiSignaling.join(node.wsUrl, roomId, name);
    const bot = new PublisherBot(sig, { video, audio }, { name, bindAddress: '127.0.0.1' });
    await bot.start();
    closers.push(() => bot.close());
    return bot.producerIds as [string, string]; // [video, audio]
  };
  try {
    const fromN1 = await publisher(n1, 'Pia');
    const fromN2 = await publisher(n2, 'Pol');
    const onN3 = await subscriber(n3, 'Sue'); // receives from two origins
    const onN1 = await subscriber(n1, 'Sam'); // receives n2's publisher
    const expected: [string, (id: string) => number, string][] = [
      ...fromN1.map((id) => ['n3 from n1', onN3, id] as [string, (id: string) => number, string]),
      ...fromN2.map((id) => ['n3 from n2', onN3, id] as [string, (id: string) => number, string]),
      ...fromN2.map((id) => ['n1 from n2', onN1, id] as [string, (id: string) => number, string]),
    ];
    const deadline = Date.now() + 20_000;
    for (const [what, packets, producerId] of expected) {
      while (packets(producerId) < 20) {
        assert.ok(
          Date.now() < deadline,
          `${what}: ${producerId} got ${packets(producerId)} packets`,
        );
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // Still flowing, stream by stream (not a burst that stopped).
    const before = expected.map(([, packets, id]) => packets(id));
    await new Promise((r) => setTimeout(r, 1500));
    expected.forEach(([what, packets, id], i) =>
      assert.ok(packets(id) > before[i]!, `${what}: ${id} keeps flowing`),
    );
  } finally {
    for (const close of closers) close();
  }
});

test('kill -9 a node: the others see its members leave within 10 s; the room stays joinable', async () => {
  const roomId = await createRoom(n1, 'Crash');
  const ann = await member(n1, roomId, 'Ann');
  const dee = await member(n3, roomId, 'Dee');
  await ann.client.nextNotification('room.peerJoined', (d) => d.peer.id === dee.id);
  const start = Date.now();
  n3.signal('SIGKILL');
  await ann.client.nextNotification('room.peerLeft', (d) => d.peerId === dee.id, 10_000);
  const took = Date.now() - start;
  assert.ok(took < 10_000, `noticed after ${took} ms`);
  const eve = await member(n2, roomId, 'Eve');
  assert.deepEqual(
    eve.answer.peers.map((p) => p.nickname),
    ['Ann'],
  );
});

test('SIGTERM drains: not ready, members told, the others see them go, the process exits', async () => {
  const roomId = await createRoom(n1, 'Drain');
  const ann = await member(n1, roomId, 'Ann');
  const fay = await member(n2, roomId, 'Fay');
  await ann.client.nextNotification('room.peerJoined', (d) => d.peer.id === fay.id);
  n2.signal('SIGTERM');
  await fay.client.nextNotification('server.draining', undefined, 5000);
  const ready = await fetch(`${n2.url}/api/ready`);
  assert.equal(ready.status, 503);
  fay.client.close(); // It reconnects elsewhere, as told.
  await ann.client.nextNotification('room.peerLeft', (d) => d.peerId === fay.id);
  const code = await Promise.race([
    n2.exited,
    new Promise((r) => setTimeout(() => r('late'), 10_000)),
  ]);
  assert.equal(code, 0);
  const again = await member(n1, roomId, 'Fay');
  assert.equal(again.answer.peers.length, 1);
});
