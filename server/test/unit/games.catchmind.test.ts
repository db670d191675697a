import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatchMindGame, type CatchMindOptions } from '../../src/games/catchMind.ts';
import { CATCH_MIND_WORDS } from '../../src/games/catchMindWords.ts';
import { loadKoreanDictionary } from '../../src/games/dictionary.ts';
import { MAX_STROKE_POINTS, type GamePlayer } from '../../src/games/protocol.ts';
import { RecordingHost } from '../helpers/gameHost.ts';

const A = { id: 'a', nickname: 'Ann' };
const B = { id: 'b', nickname: 'Bo' };
const C = { id: 'c', nickname: 'Cy' };

function setup(players: GamePlayer[] = [A, B, C], opts: Partial<CatchMindOptions> = {}) {
  const host = new RecordingHost();
  let ended = 0;
  const game = new CatchMindGame(
    { host, startedBy: 'a', players, onEnd: () => ended++ },
    {
      wordList: ['사과', '기린', '우산', '자동차'],
      random: () => 0,
      roundMs: 60_000,
      ...opts,
    },
  );
  game.start();
  return { host, game, ended: () => ended };
}

const dot = { color: '#000000', width: 4, points: [[10, 20]] };
const code = (r: { ok: boolean; refusal?: { code: string } }) => (r.ok ? 'ok' : r.refusal?.code);

test('every CatchMind word is a dictionary noun, and they are distinct', async () => {
  const dictionary = await loadKoreanDictionary();
  assert.deepEqual(
    CATCH_MIND_WORDS.filter((w) => !dictionary.has(w)),
    [],
  );
  assert.equal(new Set(CATCH_MIND_WORDS).size, CATCH_MIND_WORDS.length);
});

test('the drawer alone is told the word; broadcasts and others’ snapshots never carry it', () => {
  const { host, game } = setup();
  const round = host.last('game.catchmind.round');
  assert.equal(round.drawerId, 'a');
  assert.equal(round.wordLength, 2);
  const told = host.deliveries.filter((d) => d.event.method === 'game.catchmind.word');
  assert.equal(told.length, 1);
  assert.equal(told[0]!.to, 'a');
  const word = host.last('game.catchmind.word').word;
  assert.equal(word, '사과');
  assert.ok(game.draw('a', dot).ok);
  for (const who of ['b', 'c'])
    for (const wire of host.wireSeenBy(who)) assert.ok(!wire.includes(word), wire);
  assert.ok(!JSON.stringify(game.snapshot('b')).includes(word));
  const own = game.snapshot('a');
  assert.equal(own.kind === 'catchmind' && own.word, word, 'the drawer’s snapshot has it');
});

test('strokes: only the drawer, only valid shapes, colours and widths, in bounds', () => {
  const { host, game } = setup();
  assert.equal(code(game.draw('b', dot)), 'NOT_DRAWER');
  const bad: unknown[] = [
    { ...dot, color: 'red' },
    { ...dot, color: '#123456' },
    { ...dot, width: 5 },
    { ...dot, points: [] },
    { ...dot, points: [[1001, 0]] },
    { ...dot, points: [[-1, 0]] },
    { ...dot, points: [[0.5, 0]] },
    { ...dot, points: [[0, 0, 0]] },
    { ...dot, points: Array.from({ length: MAX_STROKE_POINTS + 1 }, () => [1, 1]) },
    { ...dot, extra: true },
    'not a stroke',
    null,
  ];
  for (const stroke of bad) assert.equal(code(game.draw('a', stroke)), 'INVALID_STROKE');
  const refused = game.draw('a', { ...dot, points: [[2000, 0]] });
  assert.match(refused.ok ? '' : refused.refusal.message, /^invalid stroke: points/);
  assert.equal(host.events('game.catchmind.stroke').length, 0, 'nothing was drawn');
  const full = {
    color: '#1e88e5',
    width: 32,
    points: Array.from({ length: MAX_STROKE_POINTS }, (_, i) => [i, 1000 - i]),
  };
  assert.ok(game.draw('a', full).ok);
  assert.deepEqual(host.last('game.catchmind.stroke'), { drawerId: 'a', stroke: full });
  const snap = game.snapshot('c');
  assert.equal(snap.kind === 'catchmind' && snap.strokes.length, 1, 'late joiners replay it');
});

test('strokes are throttled per drawer (clock injected) and bounded per round', () => {
  const { host, game } = setup([A, B]);
  let ok = 0;
  for (let i = 0; i < 100; i++) if (game.draw('a', dot).ok) ok++;
  assert.equal(ok, 60, 'the burst');
  assert.equal(code(game.draw('a', dot)), 'RATE_LIMITED');
  host.advance(1_000);
  ok = 0;
  for (let i = 0; i < 100; i++) if (game.draw('a', dot).ok) ok++;
  assert.equal(ok, 30, 'thirty a second after that');
  assert.equal(host.events('game.catchmind.stroke').length, 90);
});

test('the canvas is bounded per round, in strokes and in points; clearing frees it', () => {
  const { host, game } = setup([A, B], { maxStrokesPerRound: 10, maxPointsPerRound: 30 });
  for (let i = 0; i < 10; i++) assert.ok(game.draw('a', dot).ok);
  assert.equal(code(game.draw('a', dot)), 'CANVAS_FULL', 'ten strokes');
  assert.ok(game.clearCanvas('a').ok);
  const line = { ...dot, points: Array.from({ length: 20 }, (_, i) => [i, i]) };
  assert.ok(game.draw('a', line).ok);
  assert.equal(code(game.draw('a', line)), 'CANVAS_FULL', '20 + 20 points > 30');
  assert.ok(game.clearCanvas('a').ok);
  assert.deepEqual(host.last('game.catchmind.cleared'), { drawerId: 'a' });
  assert.ok(game.draw('a', dot).ok);
  assert.equal(code(game.clearCanvas('b')), 'NOT_DRAWER');
});

test('a correct guess scores guesser and drawer; the drawer rotates each round', () => {
  const { host, game } = setup();
  assert.equal(game.guess('b', '배'), 'none');
  assert.equal(game.guess('b', '사 과'), 'correct');
  const solved = host.last('game.catchmind.solved');
  assert.equal(solved.playerId, 'b');
  assert.equal(solved.word, '사과');
  assert.deepEqual(
    solved.scores.map((s) => [s.playerId, s.score]),
    [
      ['a', 1],
      ['b', 1],
      ['c', 0],
    ],
  );
  assert.equal(code(game.draw('a', dot)), 'BETWEEN_ROUNDS');
  host.advance(3_000);
  assert.equal(host.last('game.catchmind.round').drawerId, 'b');
  assert.equal(host.last('game.catchmind.word').word, '기린', 'a fresh word');
  const told = host.deliveries.filter((d) => d.event.method === 'game.catchmind.word');
  assert.equal(told.at(-1)!.to, 'b');
  assert.equal(code(game.draw('a', dot)), 'NOT_DRAWER', 'a is no longer the drawer');
});

test('the drawer cannot say the word in the chat', () => {
  const { game } = setup();
  assert.equal(game.guess('a', '정답은 사과'), 'withhold');
  assert.equal(game.guess('a', '과일이야'), 'none');
  assert.equal(game.guess('a', '사과'), 'withhold', 'and cannot score by guessing it');
});

test('timeout reveals the word; after the rounds, the top scorer wins', () => {
  const { host, game, ended } = setup([A, B], { rounds: 2 });
  host.advance(60_000);
  assert.deepEqual(host.last('game.catchmind.revealed'), {
    round: 1,
    word: '사과',
    reason: 'timeout',
  });
  host.advance(3_000);
  assert.equal(game.guess('a', '기린'), 'correct');
  const end = host.last('game.ended');
  assert.equal(end.reason, 'finished');
  assert.deepEqual(new Set(end.winners), new Set(['a', 'b']), 'guesser and drawer tie');
  assert.equal(ended(), 1);
  assert.equal(host.pendingTimers, 0);
});

test('the drawer leaving ends the round (word revealed); the next player draws', () => {
  const { host, game } = setup();
  game.memberLeft('a');
  assert.deepEqual(host.last('game.catchmind.revealed'), {
    round: 1,
    word: '사과',
    reason: 'drawer-left',
  });
  host.advance(3_000);
  assert.equal(host.last('game.catchmind.round').drawerId, 'b');
  game.memberLeft('c'); // a guesser leaving: two are needed, one is left
  assert.equal(host.last('game.ended').reason, 'not-enough-players');
  assert.equal(host.pendingTimers, 0);
});

test('joiners enter the rotation; a reconnecting drawer gets the word back in their snapshot', () => {
  const { host, game } = setup([A, B], { rounds: 3 });
  game.memberJoined({ id: 'c', nickname: 'Cy' });
  game.memberJoined({ id: 'a', nickname: 'Ann' }); // a reconnects mid-round
  const snap = game.snapshot('a');
  assert.equal(snap.kind === 'catchmind' && snap.word, '사과');
  assert.equal(game.guess('c', '사과'), 'correct');
  host.advance(3_000);
  assert.equal(host.last('game.catchmind.round').drawerId, 'b');
  assert.equal(game.guess('a', '기린'), 'correct');
  host.advance(3_000);
  assert.equal(host.last('game.catchmind.round').drawerId, 'c', 'the joiner draws third');
});
