import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useRoomLifeProcesses } from '../helpers/roomLifeProcesses.ts';

// The room's life authority killed for real: three `server/src/main.ts` processes on Redis
// and PostgreSQL, kill -9 the one running a 초성 quiz; the node that takes the room over
// carries the quiz on from what the dead one kept in Redis (same round, scores, deadline),
// and an answer from a member on the third node counts. TUTTI_TEST_CLUSTER_HOSTS overrides
// the hosts (comma-separated).
const life = useRoomLifeProcesses();
const { holderOf } = life;
/** The quiz's answer, as the room's authority keeps it in Redis (written just after it is told). */
const answerOf = (roomId: string, round: number) => life.answerOf(roomId, round, 100);

test('kill -9 the room’s life authority mid-quiz: the quiz goes on, and a guess from another node counts', async () => {
  await life.printingLogsOnFailure(killMidQuiz);
});

async function killMidQuiz(): Promise<void> {
  const [n1, n2, n3] = life.nodes;
  // Ann joined on n1, which runs the room's life.
  const { roomId, ben, cy } = await life.annBenCy('Killed mid-quiz');
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
  assert.equal(await holderOf(roomId), n1.nodeId, 'held by n1');
  n1.signal('SIGKILL');
  await n1.exited;
  // The registry's 6 s and a takeover (slower on a loaded box): each is told the game as it was.
  for (const m of [ben, cy]) {
    const { game } = await m.client.nextNotification('game.snapshot', undefined, 30_000);
    assert.deepEqual(game, before);
  }
  const holder = await holderOf(roomId);
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
