import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { errorCodeOf, type SharedFile } from '@tutti/protocol';
import type { SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { signalingMembers } from '../../../test/helpers/signalingMembers.ts';
import { eventually as retry } from '../../../test/helpers/waits.ts';
import {
  startClusterProcesses,
  type ClusterNodeProcess,
  type ClusterProcesses,
} from '../../../test/helpers/clusterProcesses.ts';
import {
  ownPostgres,
  ownRedis,
  ownS3,
  type OwnService,
} from '../../../test/helpers/ownServices.ts';
import { PublisherBot } from '../../../test/load/bots.ts';
import { countingSubscriber } from '../helpers/countingSubscriber.ts';
import { loadOpusFixture, loadVp8Fixture } from '../../../test/load/rtp.ts';
import { TuttiSignaling } from '../../../test/load/signaling.ts';

// Issue 10: Redis stopped and started again (empty) under a running cluster, PostgreSQL
// restarted, the S3 server stopped — with real processes: two `server/src/main.ts` nodes and
// a redis-server, a PostgreSQL cluster and an S3 server of this test's own, so stopping them
// disturbs nobody. Nothing may exit; requests answer an error code within a bound; once the
// service is back the cluster recovers by itself (no restarts, no rejoins).
// TUTTI_TEST_FAULT_HOSTS / _PORTS override the addresses (a parallel run elsewhere).
const HOSTS = (process.env.TUTTI_TEST_FAULT_HOSTS ?? '127.0.14.1,127.0.14.2').split(',');
const [REDIS_PORT, PG_PORT, S3_PORT] = (process.env.TUTTI_TEST_FAULT_PORTS ?? '6414,5414,9414')
  .split(',')
  .map(Number) as [number, number, number];
/** A request during an outage answers within this. */
const FAIL_FAST_MS = 6000;
/** After the service is back, the cluster works again within this. */
const RECOVER_MS = 20_000;

let redis: OwnService, pg: OwnService, s3: OwnService;
let cluster: ClusterProcesses;
let n1: ClusterNodeProcess, n2: ClusterNodeProcess;
const members = signalingMembers();
const closers: (() => void)[] = [];

before(async () => {
  redis = ownRedis(REDIS_PORT);
  await redis.start();
  pg = await ownPostgres(PG_PORT, 'tutti_h14_faults');
  s3 = ownS3(S3_PORT);
  await s3.start();
  cluster = await startClusterProcesses({
    hosts: HOSTS,
    nodeIdPrefix: 'fault',
    services: { redisUrl: redis.url, databaseUrl: pg.url, s3Endpoint: s3.url },
    env: {
      TUTTI_DATABASE_CONNECT_TIMEOUT_MS: '2000',
      TUTTI_DATABASE_STATEMENT_TIMEOUT_MS: '2000',
      TUTTI_FILES_S3_CONNECT_TIMEOUT_MS: '2000',
      TUTTI_FILES_S3_REQUEST_TIMEOUT_MS: '4000',
    },
    readyTimeoutMs: 45_000,
  });
  [n1, n2] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess];
});

after(async () => {
  // What the nodes logged at warn and above (how they saw the outages), once per message.
  for (const n of cluster?.nodes ?? []) {
    const counts = new Map<string, number>();
    for (const l of n.proc.logs.filter((l) => l.level >= 40)) {
      counts.set(`${l.level} ${l.msg}`, (counts.get(`${l.level} ${l.msg}`) ?? 0) + 1);
    }
    console.log(`# ${n.nodeId}: ${[...counts].map(([k, v]) => `${v}× ${k}`).join('; ')}`);
  }
  members.closeAll();
  for (const close of closers) close();
  await cluster?.stop();
  await Promise.allSettled([redis?.dispose(), pg?.dispose(), s3?.dispose()]);
});

const connect = (node: ClusterNodeProcess) => members.connect(node);
const member = members.join;
const createRoom = async (node: ClusterNodeProcess, name: string): Promise<string> =>
  (await members.createRoom(node, name)).roomId;

/** The error code `p` rejects with and how long it took; fails if it resolved. */
async function failure(p: Promise<unknown>): Promise<{ code: string; ms: number }> {
  const start = Date.now();
  const err = await p.then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  return { code: errorCodeOf(err) ?? `no code: ${String(err)}`, ms: Date.now() - start };
}

/** Retries `fn` until it resolves, at most `ms`. */
const eventually = <T>(what: string, fn: () => Promise<T>, ms = RECOVER_MS): Promise<T> =>
  retry(what, fn, ms);

const ready = async (n: ClusterNodeProcess): Promise<number> =>
  (await fetch(`${n.url}/api/ready`, { signal: AbortSignal.timeout(3000) })).status;

/** Every node still runs and logged no error but the uploads refused while S3 was down. */
function assertAlive(): void {
  for (const n of cluster.nodes) {
    assert.equal(n.proc.child.exitCode, null, `${n.nodeId} exited: ${n.proc.stderr.join('')}`);
    const errors = n.proc.logs.filter((l) => l.level >= 50 && l.msg !== 'upload failed');
    assert.deepEqual(
      errors.map((l) => l.msg),
      [],
      `${n.nodeId} logged errors`,
    );
  }
}

function redisClient(): Redis {
  const c = new Redis(redis.url, { maxRetriesPerRequest: 1, commandTimeout: 2000 });
  c.on('error', () => {});
  return c;
}

async function upload(n: ClusterNodeProcess, client: SignalingClient, bytes: Buffer) {
  const { token } = await client.request('files.uploadToken', {});
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)]), 'fault.png');
  const res = await fetch(`${n.url}/api/files?token=${encodeURIComponent(token)}`, {
    method: 'POST',
    body: form,
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await res.json()) as { error?: string; message?: { file?: SharedFile } };
  return { status: res.status, error: body.error, file: body.message?.file };
}

const png = (n: number): Buffer =>
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(n)]);

/** A publisher bot (VP8 + Opus fixtures) on `node`; resolves its producer ids [video, audio]. */
async function publisher(node: ClusterNodeProcess, roomId: string, name: string) {
  const sig = await TuttiSignaling.join(node.wsUrl, roomId, name);
  const bot = new PublisherBot(
    sig,
    { video: loadVp8Fixture(), audio: loadOpusFixture() },
    { name, bindAddress: '127.0.0.1' },
  );
  closers.push(() => bot.close());
  await bot.start();
  return bot.producerIds as [string, string];
}

/** A subscriber bot on `node`; returns the packets received so far of a producer. */
async function subscriber(node: ClusterNodeProcess, roomId: string, name: string) {
  const bot = await countingSubscriber(node.wsUrl, roomId, name, '127.0.0.1');
  closers.push(() => bot.close());
  return (producerId: string): number => bot.packets(producerId);
}

/** Resolves once `packets()` grew by `n`, failing after `ms`. */
async function flowing(what: string, packets: () => number, n = 20, ms = 15_000): Promise<void> {
  const from = packets();
  const end = Date.now() + ms;
  while (packets() - from < n) {
    assert.ok(Date.now() < end, `${what}: ${packets() - from} packets in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('Redis stopped: nothing exits, requests fail fast, not ready; restarted empty: the cluster heals itself', async () => {
  const roomId = await createRoom(n1, 'Redis outage');
  const ann = await member(n1, roomId, 'Ann');
  const ben = await member(n2, roomId, 'Ben');
  const eve = await member(n1, roomId, 'Eve');
  await ben.client.nextNotification('room.peerJoined', (d) => d.peer.id === eve.id);
  const [video] = await publisher(n1, roomId, 'Pia');
  const sue = await subscriber(n2, roomId, 'Sue');
  await flowing('n2 from n1 before', () => sue(video));

  await redis.stop();
  const send = await failure(ann.client.request('chat.send', { text: 'into the void' }));
  assert.ok(['NOT_DELIVERED', 'UNAVAILABLE'].includes(send.code), send.code);
  assert.ok(send.ms < FAIL_FAST_MS, `chat.send answered after ${send.ms} ms`);
  const joiner = await connect(n2);
  const join = await failure(joiner.request('room.join', { roomId, nickname: 'Dan' }));
  assert.equal(join.code, 'MEDIA_UNAVAILABLE');
  assert.ok(join.ms < FAIL_FAST_MS, `room.join answered after ${join.ms} ms`);
  await eventually(
    'both nodes not ready',
    async () => {
      for (const n of cluster.nodes) assert.equal(await ready(n), 503);
    },
    8000,
  );
  assert.equal((await fetch(`${n1.url}/api/live`)).status, 200);
  eve.client.close(); // Leaves while nobody can be told.
  await new Promise((r) => setTimeout(r, 8000)); // past the node timeout: nobody is declared gone
  assertAlive();
  await flowing('n2 from n1 during the outage (pipes are not Redis)', () => sue(video));

  const restarted = Date.now();
  await redis.start(); // empty: no registry, seats, nicknames or subscriptions
  await eventually('both nodes ready', async () => {
    for (const n of cluster.nodes) assert.equal(await ready(n), 200);
  });
  // Eve's leave reaches n2 once Redis is back (the counts disagree with the seats).
  await ben.client.nextNotification('room.peerLeft', (d) => d.peerId === eve.id, RECOVER_MS);
  const r = redisClient();
  try {
    await eventually('node registry re-registered', async () =>
      assert.deepEqual(
        (await r.hkeys(`${cluster.redisPrefix}nodes:info`)).sort(),
        cluster.nodes.map((n) => n.nodeId).sort(),
      ),
    );
    await eventually('seats re-reserved (Eve not among them)', async () => {
      const seats = await r.hgetall(`${cluster.redisPrefix}seats:${roomId}`);
      assert.equal(seats[ann.id], n1.nodeId);
      assert.equal(seats[ben.id], n2.nodeId);
      assert.equal(seats[eve.id], undefined);
      assert.equal(Object.keys(seats).length, 4); // Ann, Ben, Pia, Sue
    });
  } finally {
    r.disconnect();
  }
  // Cross-node chat, both ways.
  await eventually('chat n1 → n2', () => ann.client.request('chat.send', { text: 'back from n1' }));
  const got = await ben.client.nextNotification(
    'chat.message',
    (d) => d.message.text === 'back from n1',
  );
  assert.equal(got.message.from.peerId, ann.id);
  await ben.client.request('chat.send', { text: 'back from n2' });
  await ann.client.nextNotification('chat.message', (d) => d.message.text === 'back from n2', 5000);
  // A new join through the other node sees the members there are; both nodes see it; its
  // name is checked against the nicknames re-claimed in the empty Redis.
  const cid = await member(n2, roomId, 'Ann');
  assert.notEqual(cid.answer.self.nickname.toLowerCase(), 'ann', 'the name Ann is held by Ann');
  assert.deepEqual(cid.answer.peers.map((p) => p.nickname).sort(), ['Ann', 'Ben', 'Pia', 'Sue']);
  await ann.client.nextNotification('room.peerJoined', (d) => d.peer.id === cid.id, 5000);
  // Media across nodes in a room made after the restart: the pipe is set up by RPC.
  const after = await createRoom(n1, 'After Redis');
  const [video2] = await publisher(n1, after, 'Pol');
  const sam = await subscriber(n2, after, 'Sam');
  await flowing('n2 from n1 in a new room', () => sam(video2));
  const took = Date.now() - restarted;
  // Each node asked the other for its members once Redis was back (the resync), and got them.
  for (const n of cluster.nodes) {
    const gaveUp = n.proc.logs.filter((l) => l.msg === 'presence: no snapshot from a node');
    assert.deepEqual(
      gaveUp.map((l) => l.nodeId),
      [],
      `${n.nodeId} gave up on a resync`,
    );
  }
  // Presence keeps working: a member leaving on n1 is seen on n2.
  ann.client.close();
  await ben.client.nextNotification('room.peerLeft', (d) => d.peerId === ann.id, 10_000);
  assert.equal(
    ben.client.notifications.filter(
      (n) => n.method === 'room.peerLeft' && (n.data as { peerId: string }).peerId !== eve.id,
    ).length,
    1,
    'nobody but Eve and Ann was seen leaving',
  );
  assertAlive();
  console.log(`# Redis restarted: cluster working again after ${took} ms`);
});

test('PostgreSQL restarted: chat and history fail fast with STORE_UNAVAILABLE, then work again', async () => {
  const roomId = await createRoom(n1, 'PG restart');
  const ann = await member(n1, roomId, 'Ann');
  const ben = await member(n2, roomId, 'Ben');
  await ann.client.request('chat.send', { text: 'before' });
  await ben.client.nextNotification('chat.message', (d) => d.message.text === 'before');

  await pg.stop();
  const send = await failure(ann.client.request('chat.send', { text: 'during' }));
  assert.equal(send.code, 'STORE_UNAVAILABLE');
  assert.ok(send.ms < FAIL_FAST_MS, `chat.send answered after ${send.ms} ms`);
  const history = await failure(ben.client.request('chat.history', {}));
  assert.equal(history.code, 'STORE_UNAVAILABLE');
  assert.ok(history.ms < FAIL_FAST_MS, `chat.history answered after ${history.ms} ms`);
  const created = await failure((await connect(n2)).request('room.create', { name: 'Not now' }));
  assert.equal(created.code, 'STORE_UNAVAILABLE');
  assertAlive();

  const restarted = Date.now();
  await pg.start();
  await eventually('chat.send', () => ann.client.request('chat.send', { text: 'after' }));
  await ben.client.nextNotification('chat.message', (d) => d.message.text === 'after', 5000);
  const { messages } = await ben.client.request('chat.history', {});
  assert.deepEqual(
    messages.map((m) => m.text),
    ['before', 'after'],
  );
  const cid = await member(n2, await createRoom(n2, 'After the restart'), 'Cid');
  assert.equal(cid.answer.peers.length, 0);
  assert.ok(
    ben.client.notifications.every(
      (n) =>
        n.method !== 'chat.message' ||
        (n.data as { message: { text: string } }).message.text !== 'during',
    ),
    'nothing from the outage was delivered',
  );
  assertAlive();
  console.log(`# PostgreSQL restarted: chat working again after ${Date.now() - restarted} ms`);
});

test('S3 server stopped: uploads and downloads fail fast with UNAVAILABLE; restarted: they work', async () => {
  const roomId = await createRoom(n1, 'S3 outage');
  const ann = await member(n1, roomId, 'Ann');
  const ben = await member(n2, roomId, 'Ben');
  const bytes = png(50_000);
  const first = await upload(n1, ann.client, bytes);
  assert.equal(first.status, 201, first.error);
  const url = first.file!.url;

  await s3.stop();
  let start = Date.now();
  const dl = await fetch(n2.url + url, { signal: AbortSignal.timeout(20_000) });
  assert.equal(dl.status, 503);
  assert.equal(((await dl.json()) as { error: string }).error, 'UNAVAILABLE');
  assert.ok(Date.now() - start < FAIL_FAST_MS, `download answered after ${Date.now() - start} ms`);
  start = Date.now();
  const up = await upload(n2, ben.client, png(50_000));
  assert.equal(up.status, 503);
  assert.equal(up.error, 'UNAVAILABLE');
  assert.ok(Date.now() - start < FAIL_FAST_MS, `upload answered after ${Date.now() - start} ms`);
  assertAlive();

  const restarted = Date.now();
  await s3.start();
  const again = await eventually('upload', async () => {
    const res = await upload(n2, ben.client, png(50_000));
    assert.equal(res.status, 201, res.error);
    return res;
  });
  const back = await fetch(n1.url + url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(back.status, 200);
  assert.deepEqual(Buffer.from(await back.arrayBuffer()), bytes);
  const fresh = await fetch(n1.url + again.file!.url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(fresh.status, 200);
  assertAlive();
  console.log(`# S3 restarted: files working again after ${Date.now() - restarted} ms`);
});
