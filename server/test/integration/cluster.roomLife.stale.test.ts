import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useRoomLifeProcesses, type LifeMember as Member } from '../helpers/roomLifeProcesses.ts';

// The room's life authority frozen for real (SIGSTOP: its event loop stops, its Redis
// connections stay open) for longer than the node timeout, mid-quiz: another node is declared
// its successor and carries the quiz on from what it kept in Redis. Then it thaws (SIGCONT)
// with its old life, whose round timer is overdue. It must drop that life without a word (not
// announce its own next round to its members) and send its members' guesses to the node that
// holds the room now. Three `server/src/main.ts` processes on Redis and PostgreSQL;
// TUTTI_TEST_CLUSTER_HOSTS overrides the hosts (comma-separated).
const life = useRoomLifeProcesses();
const { holderOf } = life;
/** The quiz's answer, as the room's holder keeps it in Redis (only the holder may write it). */
const answerOf = (roomId: string, round: number) => life.answerOf(roomId, round, 200);

test('a frozen authority that lost the room drops its stale life and routes its member’s guess to the new holder', async () => {
  await life.printingLogsOnFailure(frozenMidQuiz);
});

const rounds = (m: Member, from: number) =>
  m.client.notifications
    .slice(from)
    .filter((n) => n.method === 'game.choseong.round')
    .map((n) => JSON.stringify(n.data));

async function frozenMidQuiz(): Promise<void> {
  const [n1, n2, n3] = life.nodes;
  // Ann joined on n1, which runs the room's life.
  const { roomId, ann, ben, cy } = await life.annBenCy('Frozen mid-quiz');
  await ben.client.request('game.start', { kind: 'choseong', options: { rounds: 3, seconds: 15 } });
  await cy.client.nextNotification('game.choseong.round', (r) => r.round === 1);
  await cy.client.request('chat.send', { text: await answerOf(roomId, 1) });
  const round2 = await ben.client.nextNotification('game.choseong.round', (r) => r.round === 2);
  await answerOf(roomId, 2);
  assert.equal(await holderOf(roomId), n1.nodeId, 'held by n1');

  n1.signal('SIGSTOP');
  // Declared gone after the registry's 6 s; the room is taken over and the quiz carried on.
  let holder: string | null = n1.nodeId;
  for (let i = 0; i < 600 && (holder === n1.nodeId || holder === null); i++) {
    await new Promise((r) => setTimeout(r, 50));
    holder = await holderOf(roomId);
  }
  assert.ok(holder === n2.nodeId || holder === n3.nodeId, `taken over (held by ${holder})`);
  const [keeper, other] = holder === n2.nodeId ? [ben, cy] : [cy, ben];
  await keeper.client.nextNotification('game.snapshot', undefined, 30_000);
  // n1's own round timer is overdue when it thaws: its old life would time the round out.
  while (Date.now() < round2.deadline + 500) await new Promise((r) => setTimeout(r, 100));
  const annFrom = ann.client.notifications.length;
  const benFrom = ben.client.notifications.length;
  n1.signal('SIGCONT');

  // n1 comes back: its member is announced to the holder again (Ann is a player there).
  await keeper.client.nextNotification('room.peerJoined', (d) => d.peer.id === ann.id, 30_000);
  const round3 = await ben.client.nextNotification('game.choseong.round', (r) => r.round === 3);
  // Ann's guess goes to the holder: with a stale life on n1, n1 would judge it (not solved).
  await ann.client.request('chat.send', { text: await answerOf(roomId, 3) });
  const solved = await other.client.nextNotification(
    'game.choseong.solved',
    (s) => s.round === 3,
    10_000,
  );
  assert.equal(solved.playerId, ann.id);
  await ben.client.nextNotification('game.ended', undefined, 10_000);
  // Every round Ann was told of after the thaw is the holder's (n1 announced none of its own).
  const benRounds = new Set(rounds(ben, benFrom));
  assert.ok(benRounds.has(JSON.stringify(round3)));
  for (const r of rounds(ann, annFrom)) assert.ok(benRounds.has(r), `not the holder’s: ${r}`);
}
