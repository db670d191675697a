import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { hubLives } from '../../src/federation/lifeClaims.ts';
import { startClusterApps, type ClusterApp } from '../helpers/clusterApps.ts';
import {
  createRoom,
  inProcess,
  join,
  onRedis,
  REDIS,
  state,
  useEnv,
  type Env,
  type Joined,
} from './cluster.roomLife.helpers.ts';
import { sleep } from './bot.ts';

// The node running a room's life (its authority, federation/lifeClaims.ts) goes: frozen on
// the in-process hub (a kill -9 to the others), or stopped on Redis + PostgreSQL (it leaves
// the registry). The game goes on where the room is taken over: the same round, scores and
// deadline, read back from the store the authority kept it in; a guess from a member on
// another node counts. A forged saved life is dropped. A node started after captions were
// turned on tells its joining member they are on.

/** The life the room's authority saved (tests look inside: the quiz's answer is there). */
async function saved(env: Env, roomId: string): Promise<{ game: { answer?: string | null } }> {
  let text: string | null | undefined;
  if (env.hub) text = hubLives.get(env.hub)?.get(roomId)?.state;
  else {
    const redis = new Redis(REDIS);
    text = await redis.get(`${env.redisPrefix}life:${roomId}:state`);
    await redis.quit();
  }
  assert.ok(text, 'the life is saved');
  return JSON.parse(text) as { game: { answer?: string | null } };
}

/** The round's answer, once saved (the authority writes just after it told the members). */
async function answerOf(env: Env, roomId: string, round: number): Promise<string> {
  for (let tries = 0; ; tries++) {
    const game = (await saved(env, roomId)).game as { round?: number; answer?: string | null };
    if (game.round === round && game.answer) return game.answer;
    assert.ok(tries < 40, `round ${round} saved (saw ${game.round})`);
    await sleep(50);
  }
}

const holderOf = (node: ClusterApp, roomId: string) =>
  node.app.tutti.cluster.lifeClaims.claim(roomId, 'just-asking');

function suite(
  variant: string,
  setup: () => Promise<Env>,
  kill: (env: Env, a: ClusterApp) => Promise<void>,
): void {
  describe(`cluster room life: failover (${variant})`, () => {
    const got = useEnv(setup);
    let a: ClusterApp, b: ClusterApp, c: ClusterApp;
    before(() => {
      [a, b, c] = got.nodes as [ClusterApp, ClusterApp, ClusterApp];
    });

    test('a forged saved life is dropped: the room simply has no game', async () => {
      const { roomId } = await createRoom(b, `Forged ${variant}`);
      const ann = await join(b, roomId, 'Ann'); // b runs the room's life
      const claims = b.app.tutti.cluster.lifeClaims;
      // A holder that is no node, and what it "saved": a chain whose turn is nobody's.
      assert.equal(await claims.claim(roomId, 'ghost', b.nodeId), 'ghost');
      const forged = {
        v: 1,
        members: [[ann.id, 'Ann']],
        hands: [],
        game: {
          ...{ kind: 'wordchain', startedBy: ann.id, turnMs: 20_000, turn: 7, deadline: 1 },
          ...{ players: [[ann.id, 'Ann', false, 0]], played: [] },
        },
      };
      const write = { state: JSON.stringify(forged), resetStrokes: true, strokes: [] };
      assert.equal(await claims.save(roomId, 'ghost', write), 'saved');
      const ben = await join(c, roomId, 'Ben'); // c replaces the ghost, reads the life back
      assert.equal(ben.answer.game, null);
      assert.equal(await state(ann), null);
      const { game } = await ben.client.request('game.start', { kind: 'choseong' });
      assert.equal(game.kind, 'choseong');
      await ben.client.request('game.stop', {});
    });

    // Last: it takes node a down.
    test('the authority goes mid-game: the quiz goes on elsewhere, same round, scores, deadline', async () => {
      const { roomId } = await createRoom(a, `Failover ${variant}`);
      const ann = await join(a, roomId, 'Ann'); // a runs the room's life
      const ben = await join(b, roomId, 'Ben');
      const cy = await join(c, roomId, 'Cy');
      await ann.client.nextNotification('room.peerJoined', (d) => d.peer.id === cy.id);
      await ben.client.request('game.start', {
        kind: 'choseong',
        options: { rounds: 3, seconds: 6 },
      });
      await cy.client.nextNotification('game.choseong.round', (r) => r.round === 1);
      // Round 1 is solved from c; round 2 opens; then a goes.
      await cy.client.request('chat.send', { text: await answerOf(got.env, roomId, 1) });
      await ben.client.nextNotification('game.choseong.solved', (s) => s.round === 1);
      const round2 = await ben.client.nextNotification(
        'game.choseong.round',
        (r) => r.round === 2,
        10_000,
      );
      const before = await state(cy);
      assert.ok(before?.kind === 'choseong' && before.round === 2);
      for (const m of [ann, cy, ben]) await m.client.request('hand.raise', {});
      await ben.client.nextNotification('hand.queue', (q) => q.queue.length === 3);
      const seen = ben.client.notifications.length;
      await kill(got.env, a);

      // Taken over by b or c: each member is told the game as it was.
      const views = await Promise.all(
        [ben, cy].map((m) => m.client.nextNotification('game.snapshot', undefined, 10_000)),
      );
      for (const { game } of views) assert.deepEqual(game, before);
      // The hand queue too, in its order, less the member who went with a.
      const hands = await cy.client.nextNotification(
        'hand.queue',
        (q) => q.queue.length === 2 && q.queue.every((h) => h.peerId !== ann.id),
        10_000,
      );
      assert.deepEqual(
        hands.queue.map((h) => h.peerId),
        [cy.id, ben.id],
      );
      const holder = await holderOf(b, roomId);
      assert.ok([b.nodeId, c.nodeId].includes(holder), `taken over by ${holder}`);
      // The round times out at its deadline, not a round's length after the takeover.
      const timeout = await cy.client.nextNotification('game.choseong.timeout', undefined, 15_000);
      assert.equal(timeout.round, 2);
      assert.ok(Date.now() >= round2.deadline - 250, 'not before the saved deadline');
      assert.ok(Date.now() <= Math.max(round2.deadline, takenAt(ben, seen)) + 2_000, 'on time');
      const round3 = await cy.client.nextNotification('game.choseong.round', (r) => r.round === 3);
      assert.equal(round3.rounds, 3);
      // A member on the node that does not run the room now answers: it counts.
      const guesser: Joined = holder === b.nodeId ? cy : ben;
      await guesser.client.request('chat.send', { text: await answerOf(got.env, roomId, 3) });
      const ends = await Promise.all(
        [ben, cy].map((m) => m.client.nextNotification('game.ended', undefined, 10_000)),
      );
      assert.deepEqual(ends[0], ends[1]);
      assert.equal(ends[0]!.reason, 'finished');
      const scores = Object.fromEntries(ends[0]!.scores.map((s) => [s.playerId, s.score]));
      assert.equal(scores[cy.id], guesser === cy ? 2 : 1);
      assert.equal(scores[ben.id], guesser === ben ? 1 : 0);
      const ended = ben.client.notifications.slice(seen).filter((n) => n.method === 'game.ended');
      assert.equal(ended.length, 1, 'the game did not end at the takeover');
      assert.equal(await state(ben), null);
    });
  });
}

/** When the takeover's snapshot reached the member (after `from` notifications). */
function takenAt(m: Joined, from: number): number {
  const n = m.client.notifications.slice(from).find((x) => x.method === 'game.snapshot');
  return n?.at ?? Date.now();
}

suite(
  'in process, frozen',
  () => inProcess('life-failover', 3),
  async (env, a) => {
    env.hub!.frozen.add(a.nodeId);
    await a.app.tutti.cluster.registry.stop();
  },
);
suite(
  'Redis + PostgreSQL, stopped',
  () => onRedis('life-failover', 3),
  (_env, a) => a.stop(),
);

describe('captions on before a node starts (Redis + PostgreSQL)', () => {
  const got = useEnv(() => onRedis('life-late', 1));
  test('the late node’s joining member is told captions are on', async () => {
    const [a] = got.nodes as [ClusterApp];
    const { roomId, ownerSecret } = await createRoom(a, 'Late captions');
    const olga = await join(a, roomId, 'Olga', ownerSecret);
    await olga.client.request('captions.set', { enabled: true, ownerSecret });
    const late = await startClusterApps(1, got.env.overrides, {
      prefix: `life-late-node-${process.pid}-`,
    });
    try {
      const [z] = late.nodes as [ClusterApp];
      const dan = await join(z, roomId, 'Dan');
      assert.equal(dan.answer.captions?.enabled, true);
      assert.equal(dan.answer.captions?.enabledBy, olga.id);
      const { captions } = await dan.client.request('captions.state', {});
      assert.equal(captions.enabled, true);
      dan.client.close();
    } finally {
      await late.stop();
    }
  });
});
