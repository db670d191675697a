import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Stroke } from '@tutti/protocol';
import type { ClusterApp } from '../helpers/clusterApps.ts';
import { loadKoreanDictionary } from '../../src/games/dictionary.ts';
import { allowedStarts } from '../../src/games/hangul.ts';
import {
  createRoom,
  inProcess,
  join,
  onRedis,
  refused,
  state,
  useEnv,
  type Env,
} from './cluster.roomLife.helpers.ts';

// Room life across the nodes of one cluster (issue 14 × issue 9): members on two nodes play
// one game (one authority: turns, refusals and scores are the same on both). Once on the
// in-process hub, once on Redis + PostgreSQL. Reactions, hands, captions and the bus:
// cluster.roomLife.social.test.ts; the authority dying mid-game: cluster.roomLife.failover.

function suite(variant: string, setup: () => Promise<Env>): void {
  describe(`cluster room life: games (${variant})`, () => {
    const got = useEnv(setup);
    let a: ClusterApp, b: ClusterApp;
    before(() => {
      [a, b] = got.nodes as [ClusterApp, ClusterApp];
    });

    test('끝말잇기 across two nodes: one turn order, refusals with reasons, the same scores', async () => {
      const dict = await loadKoreanDictionary();
      const { roomId } = await createRoom(a, `Chain ${variant}`);
      const ann = await join(a, roomId, 'Ann'); // First in: node a runs the room's life.
      const ben = await join(b, roomId, 'Ben');
      const cy = await join(b, roomId, 'Cy');
      await ann.client.nextNotification('room.peerJoined', (d) => d.peer.id === cy.id);
      assert.equal(cy.answer.game, null);

      // Started on b: the game runs on a, with every member of both nodes, Ben first.
      const { game } = await ben.client.request('game.start', { kind: 'wordchain' });
      assert.equal(game.kind, 'wordchain');
      assert.ok(game.kind === 'wordchain');
      assert.deepEqual(game.players.map((p) => p.nickname).sort(), ['Ann', 'Ben', 'Cy']);
      const started = await ann.client.nextNotification('game.started');
      assert.deepEqual(started.game.kind === 'wordchain' && started.game.players, game.players);
      for (const m of [ann, cy]) {
        const turn = await m.client.nextNotification('game.wordchain.turn');
        assert.equal(turn.playerId, ben.id);
      }
      // A second game, from either node, is refused: one game per room, cluster-wide.
      await refused(
        ann.client.request('game.start', { kind: 'choseong' }),
        'INVALID_REQUEST',
        'GAME_RUNNING',
      );
      await refused(
        cy.client.request('game.start', { kind: 'catchmind' }),
        'INVALID_REQUEST',
        'GAME_RUNNING',
      );
      // Out of turn on either node, and a bad word on b: refused with the reason.
      await refused(
        ann.client.request('game.word', { word: '기차' }),
        'FORBIDDEN',
        'NOT_YOUR_TURN',
      );
      await refused(cy.client.request('game.word', { word: '기차' }), 'FORBIDDEN', 'NOT_YOUR_TURN');
      await refused(
        ben.client.request('game.word', { word: '기차쀍쀍' }),
        'INVALID_REQUEST',
        'NOT_IN_DICTIONARY',
      );
      const first = '기차';
      assert.ok(dict.has(first));
      await ben.client.request('game.word', { word: first });
      for (const m of [ann, cy]) {
        assert.deepEqual(await m.client.nextNotification('game.wordchain.word'), {
          playerId: ben.id,
          word: first,
        });
      }
      const next = await ann.client.nextNotification('game.wordchain.turn');
      await refused(
        (next.playerId === ann.id ? ann : cy).client.request('game.word', { word: '사과' }),
        'INVALID_REQUEST',
        'WRONG_START',
      );
      assert.deepEqual(next.startsWith, allowedStarts(first));
      const second = dict.startingWith('차').find((w) => w !== first)!;
      await (next.playerId === ann.id ? ann : cy).client.request('game.word', { word: second });
      await ben.client.nextNotification('game.wordchain.word', (w) => w.word === second);
      // The same game on both nodes, as each member sees it.
      const views = await Promise.all([ann, ben, cy].map(state));
      assert.equal(JSON.stringify(views[0]), JSON.stringify(views[1]));
      assert.equal(JSON.stringify(views[1]), JSON.stringify(views[2]));

      // A node cannot play for another node's member: b relaying as Ann (who sits on a).
      const forged = b.app.tutti.cluster.rpc.request(a.nodeId, 'life.request', {
        roomId,
        memberId: ann.id,
        method: 'game.stop',
        data: {},
      });
      await assert.rejects(forged, (err: { code?: string }) => err.code === 'FORBIDDEN');

      await ben.client.request('game.stop', {});
      const ends = await Promise.all(
        [ann, ben, cy].map((m) => m.client.nextNotification('game.ended')),
      );
      for (const ended of ends) {
        assert.equal(ended.reason, 'stopped');
        assert.deepEqual(ended.scores, ends[0]!.scores);
      }
      const scored = Object.fromEntries(ends[0]!.scores.map((s) => [s.nickname, s.score]));
      assert.equal(scored.Ben, 1);
      assert.equal(scored[next.playerId === ann.id ? 'Ann' : 'Cy'], 1);
      assert.equal(await state(cy), null);
    });

    test('CatchMind across nodes: the drawer on b alone gets the word; strokes and guesses cross', async () => {
      const { roomId } = await createRoom(a, `Drawing ${variant}`);
      const ann = await join(a, roomId, 'Ann');
      const ben = await join(b, roomId, 'Ben');
      const cy = await join(b, roomId, 'Cy');
      await ann.client.nextNotification('room.peerJoined', (d) => d.peer.id === cy.id);

      await ben.client.request('game.start', { kind: 'catchmind', options: { rounds: 2 } });
      const round = await ann.client.nextNotification('game.catchmind.round');
      assert.equal(round.drawerId, ben.id);
      const { word } = await ben.client.nextNotification('game.catchmind.word');
      const benView = await state(ben);
      assert.ok(benView?.kind === 'catchmind' && benView.word === word);
      const annView = await state(ann);
      assert.ok(annView?.kind === 'catchmind' && annView.word === undefined);

      const stroke: Stroke = {
        color: '#1e88e5',
        width: 8,
        points: [
          [10, 20],
          [300, 400],
        ],
      };
      await refused(ann.client.request('game.draw', { stroke }), 'FORBIDDEN', 'NOT_DRAWER');
      await refused(
        ben.client.request('game.draw', { stroke: { ...stroke, points: [[5000, 1]] } } as never),
        'INVALID_REQUEST',
        'stroke',
      );
      await ben.client.request('game.draw', { stroke });
      const drawn = await ann.client.nextNotification('game.catchmind.stroke');
      assert.deepEqual(drawn, { drawerId: ben.id, stroke });
      for (const m of [ann, cy]) {
        const view = await state(m);
        assert.ok(view?.kind === 'catchmind');
        assert.deepEqual(view.strokes, [stroke]);
      }

      // The drawer (on b) typing the word is refused by the game's node and never relayed.
      await refused(
        ben.client.request('chat.send', { text: `it is ${word}` }),
        'FORBIDDEN',
        'NOT_ALLOWED',
      );
      await cy.client.request('chat.send', { text: '모르겠다' });
      await ann.client.request('chat.send', { text: word });
      const solvedAtB = await cy.client.nextNotification('game.catchmind.solved');
      const solvedAtA = await ann.client.nextNotification('game.catchmind.solved');
      assert.deepEqual(solvedAtB, solvedAtA);
      assert.equal(solvedAtB.playerId, ann.id);
      assert.equal(solvedAtB.word, word);
      // Nobody but the drawer saw the word before it was solved.
      for (const m of [ann, cy]) {
        const log = m.client.notifications;
        const at = log.findIndex((n) => n.method === 'game.catchmind.solved');
        for (const n of log.slice(0, at)) {
          const text = (n.data as { message?: { text: string } }).message?.text;
          if (n.method === 'chat.message' && text === word) continue; // Ann's guess itself.
          assert.ok(!JSON.stringify(n.data).includes(word), `${n.method} leaked the word`);
        }
      }
      const chatAtA = ann.client.notifications
        .filter((n) => n.method === 'chat.message')
        .map((n) => (n.data as { message: { text: string } }).message.text);
      assert.ok(!chatAtA.some((t) => t.startsWith('it is')), 'the drawer’s word was not relayed');

      // Round 2: the next drawer is told its word, wherever it sits; a guess from b scores.
      const second = await cy.client.nextNotification(
        'game.catchmind.round',
        (r) => r.round === 2,
        10_000,
      );
      const drawer = [ann, ben, cy].find((m) => m.id === second.drawerId)!;
      const { word: word2 } = await drawer.client.nextNotification(
        'game.catchmind.word',
        (w) => w.round === 2,
      );
      const guesser = drawer === cy ? ben : cy;
      assert.equal((await guesser.client.request('game.guess', { text: word2 })).correct, true);
      const ended = await Promise.all(
        [ann, cy].map((m) => m.client.nextNotification('game.ended', undefined, 15_000)),
      );
      assert.deepEqual(ended[0], ended[1]);
      assert.equal(ended[0]!.reason, 'finished');
    });
  });
}

suite('in process', () => inProcess('life-games'));
suite('Redis + PostgreSQL', () => onRedis('life-games'));
