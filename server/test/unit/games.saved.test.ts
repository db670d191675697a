import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KoreanDictionary } from '../../src/games/dictionary.ts';
import { GameManager } from '../../src/games/manager.ts';
import { parseLifeRecord, savedGameSchema } from '../../src/games/saved.ts';
import type { Stroke } from '../../src/games/protocol.ts';
import { RecordingHost } from '../helpers/gameHost.ts';

// A game saved by one node (the room's authority) and carried on by another: the same
// snapshot for every member, its timer firing at the saved deadline (games/saved.ts).

const words = new KoreanDictionary(['자동차', '무지개', '냉장고', '기차', '차표', '표범']);
const members = ['a', 'b', 'c'];

function node(host = new RecordingHost()) {
  const games = new GameManager({
    host,
    random: () => 0,
    catchMindWords: ['사과', '기린'],
    loadWords: async () => words,
    intermissionMs: 1_000,
  });
  return { host, games };
}

/** Saves `from` as JSON (as the store would hold it), restores it on a node 2 s later. */
async function carriedOn(from: GameManager, strokes: Stroke[] = []) {
  const saved = JSON.parse(JSON.stringify(from.saved())) as ReturnType<GameManager['saved']>;
  const game = savedGameSchema.parse(saved.game);
  const to = node();
  to.host.advance(2_000); // Its clock: two seconds on (the old host's clock did not move).
  assert.equal(await to.games.restore(saved.members, game, strokes), true);
  return to;
}

test('끝말잇기 carried on: same chain and turn; the turn times out at the saved deadline', async () => {
  const a = node();
  for (const id of members) a.games.memberJoined({ id, nickname: id });
  await a.games.start('b', 'wordchain', { seconds: 10 });
  assert.equal(a.games.word('b', '기차').ok, true);
  const deadline = a.host.last('game.wordchain.turn').deadline;
  const b = await carriedOn(a.games);
  for (const id of members) assert.deepEqual(b.games.snapshot(id), a.games.snapshot(id));
  assert.equal(b.games.word('c', '차표').ok, false, 'still a’s turn');
  b.host.advance(deadline - b.host.now() - 1);
  assert.equal(b.host.events('game.wordchain.out').length, 0);
  b.host.advance(1);
  assert.deepEqual(b.host.last('game.wordchain.out'), { playerId: 'a', reason: 'timeout' });
  assert.equal(b.host.last('game.wordchain.turn').playerId, 'c');
  assert.equal(b.games.word('c', '차표').ok, true);
});

test('초성 quiz carried on: same round and scores; the answer still scores; pause then next round', async () => {
  const a = node();
  for (const id of members) a.games.memberJoined({ id, nickname: id });
  await a.games.start('a', 'choseong', { rounds: 3, seconds: 30 });
  const answer = (a.games.saved().game as { answer: string }).answer;
  assert.equal(a.games.guess('b', answer), 'correct');
  a.host.advance(1_000);
  const round2 = a.host.last('game.choseong.round');
  const b = await carriedOn(a.games);
  assert.deepEqual(b.games.snapshot('c'), a.games.snapshot('c'));
  const answer2 = (b.games.saved().game as { answer: string }).answer;
  assert.equal(b.games.guess('c', answer2), 'correct');
  assert.deepEqual(
    b.host.last('game.choseong.solved').scores.map((s) => [s.playerId, s.score]),
    [
      ['b', 1],
      ['c', 1],
      ['a', 0],
    ],
  );
  assert.equal(round2.round, 2);
  // Between rounds, saved: the pause ends when it would have.
  const pausedAt = b.host.now();
  const c = await carriedOn(b.games);
  c.host.advance(pausedAt + 1_000 - c.host.now() - 1);
  assert.equal(c.host.events('game.choseong.round').length, 0);
  c.host.advance(1);
  assert.equal(c.host.last('game.choseong.round').round, 3);
});

test('CatchMind carried on: the drawer keeps the word, the canvas its strokes; a guess scores', async () => {
  const a = node();
  for (const id of members) a.games.memberJoined({ id, nickname: id });
  await a.games.start('a', 'catchmind', { rounds: 2, seconds: 60 });
  const stroke: Stroke = { color: '#1e88e5', width: 8, points: [[1, 2]] };
  assert.equal(a.games.draw('a', stroke).ok, true);
  const canvas = a.games.canvas()!;
  const b = await carriedOn(a.games, [...canvas.strokes]);
  for (const id of members) assert.deepEqual(b.games.snapshot(id), a.games.snapshot(id));
  const word = (b.games.snapshot('a') as { word?: string }).word!;
  assert.equal(b.games.guess('a', word), 'withhold');
  assert.equal(b.games.guess('c', word), 'correct');
  assert.equal(b.games.draw('a', stroke).ok, false, 'between rounds');
});

test('what is read back must hold together: a forged life is dropped', () => {
  const life = (game: unknown) => ({
    state: JSON.stringify({ v: 1, members: [['a', 'a']], hands: [], game }),
    strokes: [],
  });
  const chain = {
    kind: 'wordchain',
    startedBy: 'a',
    turnMs: 10_000,
    players: [['a', 'a', false, 0]],
    played: [],
    turn: 0,
    deadline: 5,
  };
  assert.ok('life' in parseLifeRecord(life(chain)));
  assert.ok('dropped' in parseLifeRecord(life({ ...chain, turn: 3 })));
  assert.ok('dropped' in parseLifeRecord(life({ ...chain, players: [['a', 'a', true, 0]] })));
  assert.ok('dropped' in parseLifeRecord({ state: '{"v":1', strokes: [] }));
  assert.ok('dropped' in parseLifeRecord(life({ kind: 'chess' })));
});
