import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { ClusterApp } from '../helpers/clusterApps.ts';
import { savedQuizAnswer } from '../helpers/savedQuiz.ts';
import { createRoom, join, onRedis, REDIS, useEnv, type Env } from './cluster.roomLife.helpers.ts';

// A node that held a room's life and lost it (it was frozen or cut off long enough to be
// declared gone; another node took the room over and carried its game on) must not go on
// with its stale copy: it drops it without a word when another node speaks for the room, or
// when one of its timers is due (the claim is read first), and sends its members' guesses to
// the holder. Here the takeover is the compare-and-set a node makes on a holder it saw gone
// (LifeClaims.claim with `replacing`); everything else is two nodes on Redis + PostgreSQL.

async function answerOf(env: Env, roomId: string, round: number): Promise<string> {
  const redis = new Redis(REDIS);
  try {
    const prefix = env.redisPrefix ?? assert.fail('the env has no Redis prefix');
    return await savedQuizAnswer(redis, prefix, roomId, round, 200);
  } finally {
    await redis.quit();
  }
}

describe('cluster room life: a holder that lost its claim (Redis + PostgreSQL)', () => {
  const got = useEnv(() => onRedis('life-lost', 2));
  let a: ClusterApp, b: ClusterApp;
  before(() => {
    [a, b] = got.nodes as [ClusterApp, ClusterApp];
  });
  /** A two-round quiz started by Ben (on b) in a room Ann joined first, on a (a runs its life). */
  const quiz = async (name: string, seconds: number) => {
    const { roomId } = await createRoom(a, name);
    const ann = await join(a, roomId, 'Ann');
    const ben = await join(b, roomId, 'Ben');
    await ben.client.request('game.start', { kind: 'choseong', options: { rounds: 2, seconds } });
    return { roomId, ann, ben };
  };
  /** b takes the room from a, as after declaring a gone. */
  const takeOver = async (roomId: string) =>
    assert.equal(await b.app.tutti.cluster.lifeClaims.claim(roomId, b.nodeId, a.nodeId), b.nodeId);

  test('another node speaks for the room: the stale life goes; a guess counts at the holder', async () => {
    const { roomId, ann, ben } = await quiz('Lost to an event', 60);
    await ann.client.nextNotification('game.choseong.round', (r) => r.round === 1);
    await answerOf(got.env, roomId, 1);
    await takeOver(roomId);
    // b carries the quiz on (it tells everyone, Ann too: an event of b for a's room).
    const { game } = await ben.client.request('game.state', {});
    assert.ok(game?.kind === 'choseong' && game.round === 1);
    await ann.client.nextNotification('game.snapshot', undefined, 10_000);
    // Round 1 solved at b; b opens round 2 with an answer of its own.
    await ben.client.request('chat.send', { text: await answerOf(got.env, roomId, 1) });
    await ann.client.nextNotification('game.choseong.round', (r) => r.round === 2, 10_000);
    // Judged by a stale life on a (still in round 1), Ann's answer would be chat.
    await ann.client.request('chat.send', { text: await answerOf(got.env, roomId, 2) });
    const solved = await ben.client.nextNotification('game.choseong.solved', (s) => s.round === 2);
    assert.equal(solved.playerId, ann.id);
    await ben.client.nextNotification('game.ended');
  });

  test('a timer of a stale life is due: it reads the claim and says nothing', async () => {
    const { roomId, ann, ben } = await quiz('Lost to a timer', 5);
    const round1 = await ann.client.nextNotification('game.choseong.round', (r) => r.round === 1);
    await answerOf(got.env, roomId, 1);
    await takeOver(roomId); // nobody asks b yet: a's round timer is the first to notice
    const from = ann.client.notifications.length;
    // b was asked by a for its members' view (it took the quiz up from the store): round 2 is b's.
    const round2 = await ann.client.nextNotification(
      'game.choseong.round',
      (r) => r.round === 2,
      20_000,
    );
    assert.ok(Date.now() >= round1.deadline, 'after round 1’s deadline');
    const timeouts = ann.client.notifications
      .slice(from)
      .filter((n) => n.method === 'game.choseong.timeout');
    assert.equal(timeouts.length, 1, 'round 1 timed out once (at b), not also at a');
    await ann.client.request('chat.send', { text: await answerOf(got.env, roomId, 2) });
    const solved = await ben.client.nextNotification('game.choseong.solved', (s) => s.round === 2);
    assert.equal(solved.playerId, ann.id);
    assert.deepEqual(
      (await ben.client.nextNotification('game.ended')).winners,
      [ann.id],
      `round 2 was b’s (${round2.deadline})`,
    );
  });
});
