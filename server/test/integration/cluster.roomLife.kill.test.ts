import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import {
  startClusterProcesses,
  type ClusterNodeProcess,
  type ClusterProcesses,
} from '../../../test/helpers/clusterProcesses.ts';
import { REDIS } from './cluster.roomLife.helpers.ts';

// The room's life authority killed for real: three `server/src/main.ts` processes on Redis
// and PostgreSQL, kill -9 the one running a 초성 quiz; the node that takes the room over
// carries the quiz on from what the dead one kept in Redis (same round, scores, deadline),
// and an answer from a member on the third node counts. TUTTI_TEST_CLUSTER_HOSTS overrides
// the hosts (comma-separated).
const HOSTS = (process.env.TUTTI_TEST_CLUSTER_HOSTS ?? '127.0.0.2,127.0.0.3,127.0.0.4').split(',');

let cluster: ClusterProcesses;
let n1: ClusterNodeProcess, n2: ClusterNodeProcess, n3: ClusterNodeProcess;
const clients: SignalingClient[] = [];
let redis: Redis;

async function member(node: ClusterNodeProcess, roomId: string, nickname: string) {
  const client = await connectSignaling(node.wsUrl);
  clients.push(client);
  const answer = await client.request('room.join', { roomId, nickname });
  return { client, answer, id: answer.self.id, node };
}

/** The quiz's answer, as the room's authority keeps it in Redis (written just after it is told). */
async function answerOf(roomId: string, round: number): Promise<string> {
  for (let tries = 0; ; tries++) {
    const text = await redis.get(`${cluster.redisPrefix}life:${roomId}:state`);
    // Saved a moment after the members are told (the saver coalesces): the game may not be there yet.
    type Saved = { game: { round: number; answer: string | null } | null };
    const game = text ? (JSON.parse(text) as Saved).game : null;
    if (game?.round === round && game.answer) return game.answer;
    assert.ok(
      tries < 100,
      `round ${round} saved (saw ${text ? (game?.round ?? 'no game') : 'nothing'})`,
    );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A killed test run (Ctrl-C, the runner's timeout) must not leave three servers behind. */
const killAll = () => {
  for (const n of cluster?.nodes ?? []) if (n.proc.child.exitCode === null) n.signal('SIGKILL');
};

before(async () => {
  process.once('exit', killAll);
  cluster = await startClusterProcesses({ hosts: HOSTS.slice(0, 3), readyTimeoutMs: 60_000 });
  [n1, n2, n3] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess, ClusterNodeProcess];
  redis = new Redis(REDIS);
});

after(async () => {
  for (const c of clients) c.close();
  await redis?.quit();
  await cluster?.stop();
  process.off('exit', killAll);
});

test('kill -9 the room’s life authority mid-quiz: the quiz goes on, and a guess from another node counts', async () => {
  try {
    await killMidQuiz();
  } catch (err) {
    printLogs(); // What each node said: the test's own notifications rarely tell why.
    throw err;
  }
});

function printLogs(): void {
  for (const n of cluster.nodes) {
    const lines = n.proc.logs.filter((l) => l.level >= 40 || /life|node left/.test(l.msg));
    console.error(`--- ${n.nodeId}\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
  }
}

async function killMidQuiz(): Promise<void> {
  const c = await connectSignaling(n1.wsUrl);
  const roomId = (await c.request('room.create', { name: 'Killed mid-quiz' })).room.id;
  c.close();
  const ann = await member(n1, roomId, 'Ann'); // n1 runs the room's life
  const ben = await member(n2, roomId, 'Ben');
  const cy = await member(n3, roomId, 'Cy');
  await ann.client.nextNotification('room.peerJoined', (d) => d.peer.id === cy.id);
  await ben.client.request('game.start', {
    kind: 'choseong',
    options: { rounds: 3, seconds: 20 },
  });
  await cy.client.nextNotification('game.choseong.round', (r) => r.round === 1);
  await cy.client.request('chat.send', { text: await answerOf(roomId, 1) });
  await ben.client.nextNotification('game.choseong.solved', (s) => s.round === 1);
  const round2 = await ben.client.nextNotification('game.choseong.round', (r) => r.round === 2);
  const before = (await cy.client.request('game.state', {})).game;
  assert.ok(before?.kind === 'choseong' && before.round === 2);

  await answerOf(roomId, 2); // Round 2 is saved: what a change's last moment may lose is not this test's.
  // The room is n1's (nodes just started must not take it from one another: cluster.roomLife.lateNode).
  assert.equal(await redis.get(`${cluster.redisPrefix}life:${roomId}`), n1.nodeId, 'held by n1');
  n1.signal('SIGKILL');
  await n1.exited;
  // The registry's 6 s and a takeover (slower on a loaded box): each is told the game as it was.
  for (const m of [ben, cy]) {
    const { game } = await m.client.nextNotification('game.snapshot', undefined, 30_000);
    assert.deepEqual(game, before);
  }
  const holder = await redis.get(`${cluster.redisPrefix}life:${roomId}`);
  assert.ok(holder === n2.nodeId || holder === n3.nodeId, `held by ${holder}`);
  const timeout = await cy.client.nextNotification('game.choseong.timeout', undefined, 25_000);
  assert.equal(timeout.round, 2);
  assert.ok(Date.now() >= round2.deadline - 250, 'not before the saved deadline');
  assert.ok(Date.now() <= round2.deadline + 2_000, 'at the saved deadline');
  await ben.client.nextNotification('game.choseong.round', (r) => r.round === 3, 10_000);
  const guesser = holder === n2.nodeId ? cy : ben; // on the node that does not run the room
  await guesser.client.request('chat.send', { text: await answerOf(roomId, 3) });
  const ends = await Promise.all(
    [ben, cy].map((m) => m.client.nextNotification('game.ended', undefined, 10_000)),
  );
  assert.deepEqual(ends[0], ends[1]);
  assert.equal(ends[0]!.reason, 'finished');
  const scores = Object.fromEntries(ends[0]!.scores.map((s) => [s.playerId, s.score]));
  assert.equal(scores[cy.id], guesser === cy ? 2 : 1);
  assert.equal(scores[ben.id], guesser === ben ? 1 : 0);
  assert.equal(ben.client.notifications.filter((n) => n.method === 'game.ended').length, 1);
}
