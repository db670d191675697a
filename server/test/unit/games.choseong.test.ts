import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChoseongQuizGame } from '../../src/games/choseongQuiz.ts';
import { KoreanDictionary, loadKoreanDictionary } from '../../src/games/dictionary.ts';
import { initialsOf } from '../../src/games/hangul.ts';
import { RecordingHost } from '../helpers/gameHost.ts';

let dictionary: KoreanDictionary;
before(async () => {
  dictionary = await loadKoreanDictionary();
});

const players = [
  { id: 'a', nickname: 'Ann' },
  { id: 'b', nickname: 'Bo' },
];

/** A seeded generator, so each run asks the same words. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function setup(opts: { rounds?: number; words?: KoreanDictionary } = {}) {
  const host = new RecordingHost();
  let ended = 0;
  // The test peeks at the picked word through the word list (players never can).
  const words = opts.words ?? dictionary;
  const picked: string[] = [];
  const spy = {
    size: words.size,
    has: (w: string) => words.has(w),
    countStartingWith: (s: string) => words.countStartingWith(s),
    startingWith: (s: string) => words.startingWith(s),
    pick: (o: Parameters<KoreanDictionary['pick']>[0]) => {
      const w = words.pick(o);
      picked.push(w);
      return w;
    },
  };
  const game = new ChoseongQuizGame(
    { host, startedBy: 'a', players, onEnd: () => ended++ },
    { words: spy, random: seeded(7), rounds: opts.rounds ?? 3, roundMs: 30_000 },
  );
  game.start();
  return { host, game, picked, ended: () => ended };
}

test('a round shows only the initials of a 3–4 syllable dictionary noun', () => {
  const { host, picked } = setup();
  const answer = picked[0]!;
  assert.ok(dictionary.has(answer));
  assert.ok([3, 4].includes(Array.from(answer).length), answer);
  assert.deepEqual(host.last('game.choseong.round'), {
    round: 1,
    rounds: 3,
    initials: initialsOf(answer),
    deadline: host.now() + 30_000,
  });
  assert.match(host.last('game.choseong.round').initials, /^[ㄱ-ㅎ]+$/);
});

test('the answer is in no event or snapshot anyone gets before it is solved', () => {
  const { host, game, picked } = setup({ rounds: 2 });
  const answer = picked[0]!;
  for (const text of ['아니', '모르겠다', answer.slice(0, 1)])
    assert.equal(game.guess('b', text), 'none');
  host.advance(29_999);
  for (const who of ['a', 'b', 'late-joiner']) {
    for (const wire of host.wireSeenBy(who)) assert.ok(!wire.includes(answer), wire);
    assert.ok(!JSON.stringify(game.snapshot()).includes(answer));
  }
  assert.equal(game.guess('b', answer), 'correct');
  const solved = host.last('game.choseong.solved');
  assert.equal(solved.answer, answer, 'revealed once solved');
  // Round two: its answer is hidden the same way.
  host.advance(3_000);
  const second = picked[1]!;
  assert.notEqual(second, answer);
  const sinceRound2 = host.deliveries.slice(
    host.deliveries.findIndex(
      (d) => d.event.method === 'game.choseong.round' && d.event.data.round === 2,
    ),
  );
  for (const d of sinceRound2) assert.ok(!d.wire.includes(second), d.wire);
});

test('first correct answer scores; later ones do not; the scoreboard ranks players', () => {
  const { host, game, picked } = setup();
  assert.equal(game.guess('b', ` ${picked[0]} `), 'correct', 'spaces do not matter');
  assert.equal(game.guess('a', picked[0]!), 'none', 'already solved');
  const solved = host.last('game.choseong.solved');
  assert.equal(solved.playerId, 'b');
  assert.deepEqual(
    solved.scores.map((s) => [s.playerId, s.score]),
    [
      ['b', 1],
      ['a', 0],
    ],
  );
  assert.equal(game.guess('a', picked[0]!), 'none', 'between rounds, guesses are chat');
});

test('rounds: unsolved rounds time out and reveal the answer; the last round ends the game', () => {
  const { host, game, picked, ended } = setup({ rounds: 3 });
  assert.equal(game.guess('a', picked[0]!), 'correct');
  host.advance(3_000); // round 2
  host.advance(30_000); // round 2 times out
  assert.deepEqual(host.last('game.choseong.timeout'), { round: 2, answer: picked[1] });
  host.advance(3_000); // round 3
  assert.equal(host.last('game.choseong.round').round, 3);
  assert.equal(game.guess('a', picked[2]!), 'correct');
  const end = host.last('game.ended');
  assert.equal(end.reason, 'finished');
  assert.deepEqual(end.winners, ['a']);
  assert.equal(ended(), 1);
  assert.equal(host.pendingTimers, 0);
  assert.equal(new Set(picked).size, 3, 'no word is asked twice');
});

test('late joiners can score; leavers keep their points; a draw has several winners', () => {
  const { host, game, picked } = setup({ rounds: 2 });
  game.memberJoined({ id: 'c', nickname: 'Cy' });
  assert.equal(game.guess('c', picked[0]!), 'correct');
  game.memberLeft('c');
  host.advance(3_000);
  assert.equal(game.guess('a', picked[1]!), 'correct');
  const end = host.last('game.ended');
  assert.deepEqual(new Set(end.winners), new Set(['a', 'c']));
  assert.equal(end.scores.find((s) => s.playerId === 'c')?.score, 1);
});

test('stop mid-round: the game ends, no timers left, guesses do nothing', () => {
  const { host, game, picked } = setup();
  game.stop('stopped');
  assert.equal(host.last('game.ended').reason, 'stopped');
  assert.equal(host.pendingTimers, 0);
  assert.equal(game.guess('a', picked[0]!), 'none');
});

test('a tiny word list: words are not repeated while fresh ones remain', () => {
  const words = new KoreanDictionary(['자동차', '무지개', '냉장고']);
  const { host, game, picked } = setup({ rounds: 3, words });
  for (let round = 0; round < 3; round++) {
    assert.equal(game.guess('a', picked[round]!), 'correct');
    host.advance(3_000);
  }
  assert.deepEqual([...picked].sort(), ['냉장고', '무지개', '자동차']);
});
