import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dictionaryFiles from 'dictionary-ko';
import { errorCodeOf, errorText, type GameSnapshot } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { loadKoreanDictionary, parseKoreanNouns } from '../../src/games/dictionary.ts';
import { allowedStarts, initialsOf } from '../../src/games/hangul.ts';
import { createRoom, joinRoom, until, type Member } from '../helpers/chatClients.ts';

// Issue 14, end to end over the signaling socket: real server, real rooms, protoo bots.
// Refused moves must name their reason and change nothing (no notification, same state).

describe('room life over the signaling socket', () => {
  let server: TestServer;
  const members: Member[] = [];
  const join = async (roomId: string, nickname: string) => {
    const m = await joinRoom(server, roomId, nickname);
    members.push(m);
    return m;
  };
  const leave = async (m: Member) => {
    m.client.close();
    await m.client.closedPromise;
  };
  /** Asserts a request is refused with `code: refusal: …`. */
  const refused = async (p: Promise<unknown>, code: string, refusal: string) => {
    await assert.rejects(p, (e) => {
      assert.equal(errorCodeOf(e), code, String(e));
      assert.ok(errorText(e).startsWith(refusal), String(e));
      return true;
    });
  };
  const state = async (m: Member): Promise<GameSnapshot | null> =>
    (await m.client.request('game.state', {})).game;

  before(async () => {
    server = await startTestServer({ chat: { ratePerSecond: 200, burst: 200 } });
  });
  after(async () => {
    for (const m of members) m.client.close();
    await server?.stop();
  });

  test('끝말잇기: turns, refused words with reasons, a player leaving, the last one wins', async () => {
    const dict = await loadKoreanDictionary();
    const { roomId } = await createRoom(server, 'Word chain');
    const ann = await join(roomId, 'Ann');
    const ben = await join(roomId, 'Ben');
    const cy = await join(roomId, 'Cy');
    assert.equal(ann.join.game, null);
    assert.deepEqual(ann.join.hands, { queue: [] });

    const { game } = await ann.client.request('game.start', { kind: 'wordchain' });
    assert.equal(game.kind, 'wordchain');
    const turn = await cy.client.nextNotification('game.wordchain.turn');
    assert.equal(turn.playerId, ann.id);
    assert.equal(turn.startsWith, null);

    // Out of turn, forged fields: refused, nothing changes.
    await refused(ben.client.request('game.word', { word: '사과' }), 'FORBIDDEN', 'NOT_YOUR_TURN');
    await refused(
      ben.client.request('game.word', { word: '사과', playerId: ann.id } as never),
      'INVALID_REQUEST',
      '',
    );
    await refused(
      ann.client.request('game.word', { word: '사과나무쀍' }),
      'INVALID_REQUEST',
      'NOT_IN_DICTIONARY',
    );

    const first = '기차';
    assert.ok(dict.has(first));
    await ann.client.request('game.word', { word: first });
    const played = await cy.client.nextNotification('game.wordchain.word');
    assert.deepEqual(played, { playerId: ann.id, word: first });
    const benTurn = await cy.client.nextNotification('game.wordchain.turn');
    assert.equal(benTurn.playerId, ben.id);
    assert.deepEqual(benTurn.startsWith, allowedStarts(first));

    const before = JSON.stringify(await state(cy));
    const wordsBefore = cy.client.notifications.length;
    await refused(
      ben.client.request('game.word', { word: '사과' }),
      'INVALID_REQUEST',
      'WRONG_START',
    );
    await refused(
      ben.client.request('game.word', { word: '차쀍쀍' }),
      'INVALID_REQUEST',
      'NOT_IN_DICTIONARY',
    );
    await refused(ann.client.request('game.word', { word: '차표' }), 'FORBIDDEN', 'NOT_YOUR_TURN');
    assert.equal(JSON.stringify(await state(cy)), before, 'refused moves change nothing');
    assert.equal(cy.client.notifications.length, wordsBefore, 'and announce nothing');

    const second = dict.startingWith('차').find((w) => w !== first)!;
    await ben.client.request('game.word', { word: second });
    assert.equal((await cy.client.nextNotification('game.wordchain.turn')).playerId, cy.id);

    // Cy leaves on their turn: out, and the chain carries on from the same word with Ann.
    await leave(cy);
    const out = await ann.client.nextNotification('game.wordchain.out');
    assert.deepEqual(out, { playerId: cy.id, reason: 'left' });
    const annTurn = await ann.client.nextNotification(
      'game.wordchain.turn',
      (t) => t.startsWith !== null && t.playerId === ann.id,
    );
    assert.equal(annTurn.playerId, ann.id);
    assert.deepEqual(annTurn.startsWith, allowedStarts(second));

    await leave(ben);
    const ended = await ann.client.nextNotification('game.ended');
    assert.equal(ended.reason, 'finished');
    assert.deepEqual(ended.winners, [ann.id]);
    assert.equal(await state(ann), null);
  });

  test('초성: the answer is never sent before it is solved; chat guesses score', async () => {
    const nouns = parseKoreanNouns(dictionaryFiles.aff, dictionaryFiles.dic);
    const { roomId } = await createRoom(server, 'Choseong');
    const ann = await join(roomId, 'Ann');
    const ben = await join(roomId, 'Ben');
    const bots = [ann, ben];

    await ben.client.request('game.start', { kind: 'choseong', options: { rounds: 2 } });
    await refused(
      ann.client.request('game.word', { word: '기차' }),
      'INVALID_REQUEST',
      'WRONG_GAME',
    );
    await refused(
      ann.client.request('game.start', { kind: 'catchmind' }),
      'INVALID_REQUEST',
      'GAME_RUNNING',
    );

    for (const round of [1, 2]) {
      const { initials } = await ann.client.nextNotification(
        'game.choseong.round',
        (r) => r.round === round,
      );
      const candidates = nouns.filter((w) => initialsOf(w) === initials);
      assert.ok(candidates.length > 0, `a noun for ${initials}`);
      const solvedRound = () =>
        ann.client.notifications.some(
          (n) =>
            n.method === 'game.choseong.solved' && (n.data as { round: number }).round === round,
        );
      let answer: string | undefined;
      for (const word of candidates) {
        // Round 1 in the chat (the chat screen feeds the game), round 2 with game.guess. A
        // chat guess's `solved` reaches the sender before the answer to its chat.send.
        if (round === 1) {
          await ann.client.request('chat.send', { text: word });
          if (solvedRound()) answer = word;
        } else if ((await ann.client.request('game.guess', { text: word })).correct) answer = word;
        if (answer) break;
      }
      assert.ok(answer, 'one of the candidates is the answer');
      const solved = await ben.client.nextNotification(
        'game.choseong.solved',
        (s) => s.round === round,
      );
      assert.equal(solved.answer, answer);
      assert.equal(solved.playerId, ann.id);
      // Every delivery before `solved`, to every bot, is free of the answer.
      for (const bot of bots) {
        const log = bot.client.notifications;
        const ofRound = (method: string) =>
          log.findIndex(
            (n) => n.method === method && (n.data as { round: number }).round === round,
          );
        const from = ofRound('game.choseong.round');
        const at = ofRound('game.choseong.solved');
        assert.ok(from >= 0 && at > from);
        for (const n of log.slice(from, at)) {
          assert.ok(!JSON.stringify(n.data).includes(answer), `${n.method} leaked the answer`);
        }
      }
    }
    const ended = await ben.client.nextNotification('game.ended');
    assert.equal(ended.reason, 'finished');
    assert.deepEqual(ended.winners, [ann.id]);
    assert.equal(ended.scores.find((s) => s.playerId === ann.id)?.score, 2);
  });

  test('CatchMind: only the drawer draws and knows the word; a guess scores; the drawer leaving', async () => {
    const { roomId } = await createRoom(server, 'CatchMind');
    const ann = await join(roomId, 'Ann');
    const ben = await join(roomId, 'Ben');
    const cy = await join(roomId, 'Cy');

    await ann.client.request('game.start', { kind: 'catchmind', options: { rounds: 3 } });
    const round = await ben.client.nextNotification('game.catchmind.round');
    assert.equal(round.drawerId, ann.id);
    const { word } = await ann.client.nextNotification('game.catchmind.word');
    const annView = await state(ann);
    assert.ok(annView?.kind === 'catchmind' && annView.word === word);
    const benView = await state(ben);
    assert.ok(benView?.kind === 'catchmind' && benView.word === undefined);

    const stroke = {
      color: '#e53935',
      width: 4,
      points: [
        [10, 10],
        [500, 600],
      ],
    } as const;
    const count = () =>
      cy.client.notifications.filter((n) => n.method === 'game.catchmind.stroke').length;
    await refused(
      ben.client.request('game.draw', { stroke: { ...stroke, points: [[1, 1]] } }),
      'FORBIDDEN',
      'NOT_DRAWER',
    );
    await refused(
      ann.client.request('game.draw', { stroke: { ...stroke, points: [[5000, 1]] } } as never),
      'INVALID_REQUEST',
      'stroke',
    );
    await refused(
      ann.client.request('game.draw', { stroke: { ...stroke, color: 'url(x)' } } as never),
      'INVALID_REQUEST',
      'stroke',
    );
    await ann.client.request('game.draw', {
      stroke: {
        ...stroke,
        points: [
          [10, 10],
          [500, 600],
        ],
      },
    });
    const drawn = await cy.client.nextNotification('game.catchmind.stroke');
    assert.deepEqual(drawn.stroke.points, [
      [10, 10],
      [500, 600],
    ]);
    assert.equal(count(), 1, 'refused strokes were not relayed');

    // The drawer typing the word is refused and never relayed.
    await refused(
      ann.client.request('chat.send', { text: `it is ${word}!` }),
      'FORBIDDEN',
      'NOT_ALLOWED',
    );
    await ben.client.request('chat.send', { text: '모르겠다' });
    await ben.client.request('chat.send', { text: word });
    const solved = await cy.client.nextNotification('game.catchmind.solved');
    assert.equal(solved.playerId, ben.id);
    assert.equal(solved.word, word);
    const score = (id: string) => solved.scores.find((s) => s.playerId === id)?.score;
    assert.equal(score(ben.id), 1);
    assert.equal(score(ann.id), 1);
    for (const bot of [ben, cy]) {
      const log = bot.client.notifications;
      const at = log.findIndex((n) => n.method === 'game.catchmind.solved');
      for (const n of log.slice(0, at)) assert.ok(!JSON.stringify(n.data).includes(word), n.method);
    }
    const chatTexts = cy.client.notifications
      .filter((n) => n.method === 'chat.message')
      .map((n) => (n.data as { message: { text: string } }).message.text);
    assert.deepEqual(chatTexts, ['모르겠다', word]);

    // Round 2: Ben draws, and leaves mid-round: the word is revealed, the game goes on.
    const second = await cy.client.nextNotification(
      'game.catchmind.round',
      (r) => r.round === 2,
      10_000,
    );
    assert.equal(second.drawerId, ben.id);
    await leave(ben);
    const revealed = await cy.client.nextNotification('game.catchmind.revealed');
    assert.equal(revealed.reason, 'drawer-left');
    const third = await cy.client.nextNotification(
      'game.catchmind.round',
      (r) => r.round === 3,
      10_000,
    );
    assert.ok([ann.id, cy.id].includes(third.drawerId));
    await leave(cy);
    const ended = await ann.client.nextNotification('game.ended');
    assert.equal(ended.reason, 'not-enough-players');
  });

  test('reactions reach everyone (rate limited); raised hands queue in order', async () => {
    const { roomId } = await createRoom(server, 'Hands');
    const ann = await join(roomId, 'Ann');
    const ben = await join(roomId, 'Ben');

    await ann.client.request('reaction.send', { emoji: '👏' });
    const seen = await ben.client.nextNotification('reaction.sent');
    assert.equal(seen.peerId, ann.id);
    assert.equal(seen.emoji, '👏');
    await refused(
      ann.client.request('reaction.send', { emoji: '💩' } as never),
      'INVALID_REQUEST',
      'emoji',
    );
    const burst = await Promise.allSettled(
      Array.from({ length: 8 }, () => ann.client.request('reaction.send', { emoji: '👍' })),
    );
    const limited = burst.filter((r) => r.status === 'rejected');
    assert.ok(limited.length >= 1, 'a burst is rate limited');
    assert.ok(limited.every((r) => errorCodeOf(r.reason) === 'RATE_LIMITED'));

    await ben.client.request('hand.raise', {});
    const raised = await ann.client.request('hand.raise', {});
    assert.deepEqual(
      raised.queue.map((h) => h.peerId),
      [ben.id, ann.id],
    );
    await until(
      () => ben.client.notifications.filter((n) => n.method === 'hand.queue').length >= 2,
    );
    const cy = await join(roomId, 'Cy');
    assert.deepEqual(
      cy.join.hands?.queue.map((h) => h.peerId),
      [ben.id, ann.id],
    );
    // Nobody is a moderator yet: lowering someone else's hand is refused.
    await refused(ann.client.request('hand.lower', { peerId: ben.id }), 'FORBIDDEN', 'NOT_ALLOWED');
    await leave(ben);
    const after = await cy.client.nextNotification('hand.queue', (q) => q.queue.length === 1);
    assert.deepEqual(
      after.queue.map((h) => h.peerId),
      [ann.id],
    );
    const lowered = await ann.client.request('hand.lower', {});
    assert.deepEqual(lowered.queue, []);
  });

  test('a room that empties forgets its game; outside a room everything is NOT_JOINED', async () => {
    const { roomId } = await createRoom(server, 'Empties');
    const ann = await join(roomId, 'Ann');
    await ann.client.request('game.start', { kind: 'choseong' });
    await ann.client.request('hand.raise', {});
    await leave(ann);
    const back = await join(roomId, 'Ann again');
    assert.equal(back.join.game, null);
    assert.deepEqual(back.join.hands, { queue: [] });
    await back.client.request('room.leave', {});
    await refused(back.client.request('game.state', {}), 'NOT_JOINED', '');
  });
});
