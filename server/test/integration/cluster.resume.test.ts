/**
 * Membership resume across the nodes of a cluster (docs/reconnect.md, issues 9 and 10): two
 * real server processes on Redis and PostgreSQL. A member of node A whose socket drops
 * resumes through node B within the grace: the same id, nobody (on A or on B) sees it leave
 * or join, what was sent to the room meanwhile arrives once, its seat and nickname are node
 * B's now, and its media works again once rebuilt there (new transports, producers and
 * consumers, checked at the signaling level across the nodes). A token past its grace, or
 * of a node that died, is refused with RESUME_FAILED and a fresh join works.
 *
 * TUTTI_TEST_RESUME_HOSTS overrides the two hosts (comma-separated).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { errorCodeOf } from '@tutti/protocol';
import {
  startClusterProcesses,
  type ClusterNodeProcess,
  type ClusterProcesses,
} from '../../../test/helpers/clusterProcesses.ts';
import { codeOf, until as waitUntil } from '../../../test/helpers/waits.ts';
import { connectRaw, type RawClient as Client } from '../helpers/rawSignaling.ts';

const REDIS = process.env.TUTTI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const HOSTS = (process.env.TUTTI_TEST_RESUME_HOSTS ?? '127.0.17.1,127.0.17.2').split(',');
const GRACE_S = 4;

const open: Client[] = [];

/** A raw protoo client (cut without a close frame) on one node. */
const connect = (node: ClusterNodeProcess): Promise<Client> =>
  connectRaw(node.wsUrl, { requestTimeoutMs: 8000, open });

/** Polls `check` every 25 ms; throws after `ms`. */
const until = (check: () => boolean, ms: number, what: string): Promise<void> =>
  waitUntil(what, check, ms, 25);

/** A's and B's count of the room (the lobby's, cluster-wide). */
async function countOn(node: ClusterNodeProcess, roomId: string): Promise<number> {
  const res = await fetch(`${node.url}/api/rooms/${roomId}`, { signal: AbortSignal.timeout(3000) });
  return ((await res.json()) as { room: { peers: number } }).room.peers;
}

describe('membership resume across nodes (two processes, Redis + PostgreSQL)', () => {
  let cluster: ClusterProcesses;
  let a: ClusterNodeProcess, b: ClusterNodeProcess;
  let redis: Redis;

  before(async () => {
    cluster = await startClusterProcesses({
      hosts: HOSTS.slice(0, 2),
      nodeIdPrefix: `resume-${process.pid}`,
      env: {
        TUTTI_SERVER_RESUME_GRACE_SECONDS: String(GRACE_S),
        TUTTI_CLUSTER_HEARTBEAT_MS: '300',
        TUTTI_CLUSTER_NODE_TIMEOUT_MS: '2000',
      },
    });
    [a, b] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess];
    redis = new Redis(REDIS);
  });

  after(async () => {
    for (const c of open) c.ws.terminate();
    await redis?.quit();
    await cluster?.stop();
  });

  test('a member of node A resumes through node B: same id, no leave/join, chat once, media again', async () => {
    const owner = await connect(a);
    const roomId = (await owner.request('room.create', { name: 'Roaming' })).room.id;
    owner.ws.close(1000);
    // Watchers on both nodes, each sending media the member will consume.
    const onA = await connect(a);
    await onA.request('room.join', { roomId, nickname: 'Ann' });
    const annSend = (await onA.setupMedia()).send;
    const annCam = await onA.produce(annSend, 'camera');
    const onB = await connect(b);
    await onB.request('room.join', { roomId, nickname: 'Bea' });
    const beaSend = (await onB.setupMedia()).send;
    const beaMic = await onB.produce(beaSend, 'mic');
    // The member, on node A, with media of its own that both watchers consume.
    const alice = await connect(a);
    const joined = await alice.request('room.join', { roomId, nickname: 'alice' });
    const id = joined.self.id;
    assert.ok(joined.resumeToken, 'a resume token');
    const { send } = await alice.setupMedia();
    const oldMic = await alice.produce(send, 'mic');
    await until(() => alice.consumers.length === 2, 8000, 'alice consuming Ann and Bea');
    for (const w of [onA, onB]) {
      await until(
        () => w.consumers.some((c) => c.producerId === oldMic),
        8000,
        'the watchers consuming alice',
      );
    }
    await until(
      () => onB.seen('room.peerJoined').some((n) => n.peer.id === id),
      5000,
      'B sees alice',
    );
    const seenBefore = (w: Client) => w.notifications.length;
    const mark = new Map([onA, onB].map((w) => [w, seenBefore(w)]));

    // The drop: no close frame. Then chat from both nodes while she is away.
    alice.ws.terminate();
    await alice.closed;
    await sleep(300);
    const m1 = (await onA.request('chat.send', { text: 'while away, from A' })).message;
    const m2 = (await onB.request('chat.send', { text: 'while away, from B' })).message;
    for (const w of [onA, onB]) {
      await until(() => w.seen('chat.message').length >= 2, 5000, 'both messages delivered');
    }

    // Back, through node B.
    const again = await connect(b);
    const resumed = await again.request('session.resume', { token: joined.resumeToken! });
    assert.equal(resumed.self.id, id, 'the same membership');
    assert.equal(resumed.self.nickname, 'alice');
    assert.equal(resumed.media, 'rebuild', 'the media is to be rebuilt on node B');
    assert.deepEqual(resumed.peers.map((p) => p.nickname).sort(), ['Ann', 'Bea']);
    assert.notEqual(resumed.resumeToken, joined.resumeToken);
    // What was sent while she was away arrives once, in order.
    await sleep(700);
    assert.deepEqual(
      again.seen('chat.message').map((n) => n.message.id),
      [m1.id, m2.id],
      'each message exactly once',
    );
    // She acts as herself through node B.
    const back = await again.request('chat.send', { text: 'back, via B' });
    assert.equal(back.message.from.peerId, id);
    for (const w of [onA, onB]) {
      await until(
        () => w.seen('chat.message').some((n) => n.message.id === back.message.id),
        5000,
        'her message reaches both nodes',
      );
    }

    // Media again: new transports on B, her consumers of Ann (piped from A) and Bea (local),
    // and her new mic reaches both watchers.
    const rebuilt = await again.setupMedia();
    await until(() => again.consumers.length === 2, 8000, 'alice consuming again on B');
    assert.deepEqual(
      again.consumers.map((c) => c.producerId).sort(),
      [annCam, beaMic].sort(),
      'the same producers, consumed on node B',
    );
    const newMic = await again.produce(rebuilt.send, 'mic');
    for (const w of [onA, onB]) {
      await until(
        () => w.consumers.some((c) => c.producerId === newMic && c.peerId === id),
        8000,
        'the watchers consuming her new mic',
      );
      assert.ok(
        w.seen('media.consumerClosed').length >= 1,
        'their consumer of her old mic closed with node A’s transports',
      );
    }

    // Past the grace: still nobody saw her leave or join, on either node.
    await sleep(GRACE_S * 1000 + 500);
    for (const w of [onA, onB]) {
      const since = w.notifications.slice(mark.get(w));
      const about = since.filter(
        (n) =>
          (n.method === 'room.peerLeft' && (n.data as { peerId: string }).peerId === id) ||
          (n.method === 'room.peerJoined' && (n.data as { peer: { id: string } }).peer.id === id),
      );
      assert.deepEqual(about, [], 'no leave or join notice about her');
    }
    // One seat, node B's; one nickname claim, node B's; the count is 3 on both nodes.
    const seat = await redis.hget(`${cluster.redisPrefix}seats:${roomId}`, id);
    assert.equal(seat, b.nodeId, 'her cluster seat moved to node B');
    const claim = await redis.hget(`${cluster.redisPrefix}presence:nick:${roomId}`, 'alice');
    assert.equal(claim, `${b.nodeId}|${id}`, 'her nickname is held by node B');
    assert.equal(await countOn(a, roomId), 3);
    assert.equal(await countOn(b, roomId), 3);
    // Her name is still hers: a newcomer through node A gets another one.
    const newcomer = await connect(a);
    const other = await newcomer.request('room.join', { roomId, nickname: 'alice' });
    assert.notEqual(other.self.nickname, 'alice');
    // Once the answer is confirmed, the spent token is refused on either node.
    await again.request('session.confirm', {});
    for (const node of [a, b]) {
      const thief = await connect(node);
      const code = await codeOf(thief.request('session.resume', { token: joined.resumeToken! }));
      assert.equal(code, 'RESUME_FAILED');
    }
    await newcomer.request('room.leave', {});
    // A leave through node B now is a leave for everyone, once.
    await again.request('room.leave', {});
    for (const w of [onA, onB]) {
      await until(
        () => w.seen('room.peerLeft').filter((n) => n.peerId === id).length === 1,
        5000,
        'her leave',
      );
    }
    // The seat goes after the leave is told (a Redis write of its own): wait for it.
    let stays = await redis.hget(`${cluster.redisPrefix}seats:${roomId}`, id);
    for (let i = 0; stays !== null && i < 100; i++, await sleep(50))
      stays = await redis.hget(`${cluster.redisPrefix}seats:${roomId}`, id);
    assert.equal(stays, null, 'her seat released');
    for (const w of [onA, onB]) await w.request('room.leave', {});
  });

  test('the same token through both nodes at once: the last resume carries it, nobody sees a leave', async () => {
    const owner = await connect(a);
    const roomId = (await owner.request('room.create', { name: 'Racing' })).room.id;
    owner.ws.close(1000);
    const watchers = [await connect(a), await connect(b)];
    for (const [i, w] of watchers.entries()) {
      await w.request('room.join', { roomId, nickname: `Watcher${i}` });
    }
    const dave = await connect(a);
    const joined = await dave.request('room.join', { roomId, nickname: 'dave' });
    const id = joined.self.id;
    for (const w of watchers) {
      await until(() => w.seen('room.peerJoined').some((n) => n.peer.id === id), 5000, 'dave in');
    }
    dave.ws.terminate();
    await dave.closed;
    await sleep(300);
    const [viaA, viaB] = [await connect(a), await connect(b)];
    const outcomes = await Promise.allSettled([
      viaA.request('session.resume', { token: joined.resumeToken! }),
      viaB.request('session.resume', { token: joined.resumeToken! }),
    ]);
    const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    assert.ok(won.length >= 1, 'a resume wins');
    for (const o of outcomes) {
      if (o.status === 'rejected') assert.equal(errorCodeOf(o.reason), 'RESUME_FAILED');
    }
    // Unconfirmed, the token may win twice, one after the other (the first answer might have
    // been lost: docs/reconnect.md): the later one carries dave, the earlier socket is closed.
    let winner = [viaA, viaB][won[0]!]!;
    if (won.length === 2) {
      winner = await Promise.race([viaA.closed.then(() => viaB), viaB.closed.then(() => viaA)]);
    }
    await winner.request('session.confirm', {});
    const sent = await winner.request('chat.send', { text: 'still me' });
    assert.equal(sent.message.from.peerId, id);
    await sleep(1000);
    for (const w of watchers) {
      assert.deepEqual(
        w.seen('room.peerLeft').filter((n) => n.peerId === id),
        [],
        'nobody saw dave leave',
      );
      assert.equal(w.seen('room.peerJoined').filter((n) => n.peer.id === id).length, 1);
    }
    await winner.request('room.leave', {});
    for (const w of watchers) await w.request('room.leave', {});
  });

  test('a token past its grace is refused on another node, and a fresh join works', async () => {
    const owner = await connect(a);
    const roomId = (await owner.request('room.create', { name: 'Expired' })).room.id;
    owner.ws.close(1000);
    const watcher = await connect(b);
    await watcher.request('room.join', { roomId, nickname: 'Wes' });
    const bob = await connect(a);
    const joined = await bob.request('room.join', { roomId, nickname: 'bob' });
    bob.ws.terminate();
    await until(
      () => watcher.seen('room.peerLeft').some((n) => n.peerId === joined.self.id),
      (GRACE_S + 4) * 1000,
      'bob leaving after the grace',
    );
    const late = await connect(b);
    let reason = '';
    try {
      await late.request('session.resume', { token: joined.resumeToken! });
    } catch (err) {
      reason = String((err as Error).message);
    }
    assert.match(reason, /RESUME_FAILED/, 'a clear refusal');
    const fresh = await late.request('room.join', { roomId, nickname: 'bob' });
    assert.notEqual(fresh.self.id, joined.self.id, 'a new membership');
    assert.equal(fresh.self.nickname, 'bob', 'his old name was given back');
    await late.request('room.leave', {});
    await watcher.request('room.leave', {});
  });

  test('the issuing node died: RESUME_FAILED through the other, then a fresh join', async () => {
    const owner = await connect(b);
    const roomId = (await owner.request('room.create', { name: 'Orphan' })).room.id;
    owner.ws.close(1000);
    const watcher = await connect(b);
    await watcher.request('room.join', { roomId, nickname: 'Wil' });
    const carol = await connect(a);
    const joined = await carol.request('room.join', { roomId, nickname: 'carol' });
    a.signal('SIGKILL');
    await a.exited;
    const again = await connect(b);
    const code = await codeOf(again.request('session.resume', { token: joined.resumeToken! }));
    assert.equal(code, 'RESUME_FAILED');
    await until(
      () => watcher.seen('room.peerLeft').some((n) => n.peerId === joined.self.id),
      10_000,
      'the dead node’s member leaving',
    );
    const fresh = await again.request('room.join', { roomId, nickname: 'carol' });
    assert.notEqual(fresh.self.id, joined.self.id);
    await again.request('room.leave', {});
    await watcher.request('room.leave', {});
  });
});
