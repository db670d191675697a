import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadKoreanDictionary, type KoreanDictionary } from '../../src/games/dictionary.ts';
import { allowedStarts } from '../../src/games/hangul.ts';
import { WordChainGame } from '../../src/games/wordChain.ts';
import type { GamePlayer } from '../../src/games/protocol.ts';
import { RecordingHost } from '../helpers/gameHost.ts';

let words: KoreanDictionary;
before(async () => {
  words = await loadKoreanDictionary();
});

const A = { id: 'a', nickname: 'Ann' };
const B = { id: 'b', nickname: 'Bo' };
const C = { id: 'c', nickname: 'Cy' };

function setup(players: GamePlayer[] = [A, B, C], turnMs = 10_000) {
  const host = new RecordingHost();
  let ended = 0;
  const game = new WordChainGame(
    { host, startedBy: players[0]!.id, players, onEnd: () => ended++ },
    { words, turnMs },
  );
  game.start();
  return { host, game, ended: () => ended };
}

const refusal = (r: ReturnType<WordChainGame['submitWord']>) =>
  r.ok ? null : [r.refusal.code, r.refusal.message];

test('start: announced with the players, first turn has no constraint and a deadline', () => {
  const { host } = setup();
  const started = host.last('game.started').game;
  assert.equal(started.kind, 'wordchain');
  assert.deepEqual(started.kind === 'wordchain' && started.players.map((p) => p.id), [
    'a',
    'b',
    'c',
  ]);
  assert.deepEqual(host.last('game.wordchain.turn'), {
    playerId: 'a',
    startsWith: null,
    deadline: host.now() + 10_000,
  });
});

test('a chain: each word starts with the last syllable; turns go round in order', () => {
  const { host, game } = setup();
  assert.deepEqual(game.submitWord('a', '사과'), { ok: true });
  assert.deepEqual(host.last('game.wordchain.turn').startsWith, ['과']);
  assert.equal(host.last('game.wordchain.turn').playerId, 'b');
  assert.deepEqual(game.submitWord('b', '과일'), { ok: true });
  assert.deepEqual(game.submitWord('c', ' 일기 '), { ok: true }, 'trimmed');
  assert.equal(host.last('game.wordchain.turn').playerId, 'a');
  assert.deepEqual(
    host.events('game.wordchain.word').map((w) => w.word),
    ['사과', '과일', '일기'],
  );
});

test('두음법칙: after 능력 a word may start with 역 or 력; otherwise "must start with 역 or 력"', () => {
  const { host, game } = setup([A, B]);
  assert.ok(game.submitWord('a', '능력').ok);
  assert.deepEqual(host.last('game.wordchain.turn').startsWith, ['역', '력']);
  assert.deepEqual(refusal(game.submitWord('b', '사과')), [
    'WRONG_START',
    'must start with 역 or 력',
  ]);
  assert.ok(game.submitWord('b', '역사').ok, '역 (두음) is accepted');
  assert.ok(game.submitWord('a', '사랑').ok);
  assert.ok(game.submitWord('b', '낭만').ok, '랑 → 낭');
  assert.ok(game.submitWord('a', '만두').ok);
  assert.ok(game.submitWord('b', '두부').ok);
  assert.ok(game.submitWord('a', '부리').ok);
  assert.ok(game.submitWord('b', '이유').ok, '리 → 이');
});

test('refusals: not in the dictionary, already used; the player retries on the same turn', () => {
  const { host, game } = setup([A, B]);
  assert.ok(game.submitWord('a', '기차').ok);
  assert.ok(game.submitWord('b', '차표').ok);
  assert.ok(game.submitWord('a', '표지').ok);
  const turnsBefore = host.events('game.wordchain.turn').length;
  assert.deepEqual(refusal(game.submitWord('b', '지읒읒')), [
    'NOT_IN_DICTIONARY',
    'not in the dictionary',
  ]);
  assert.deepEqual(refusal(game.submitWord('b', '지다')), [
    'NOT_IN_DICTIONARY',
    'not in the dictionary',
  ]);
  assert.ok(game.submitWord('b', '지도').ok);
  assert.ok(game.submitWord('a', '도구').ok);
  assert.ok(game.submitWord('b', '구기').ok);
  assert.deepEqual(refusal(game.submitWord('a', '기차')), ['ALREADY_USED', 'already used']);
  assert.equal(host.last('game.wordchain.turn').playerId, 'a', 'still a’s turn');
  assert.ok(turnsBefore < host.events('game.wordchain.turn').length);
});

test('out of turn and forged moves are refused and change nothing', () => {
  const { host, game } = setup();
  const before = JSON.stringify(game.snapshot());
  const sent = host.deliveries.length;
  assert.deepEqual(refusal(game.submitWord('b', '사과')), ['NOT_YOUR_TURN', 'not your turn']);
  assert.deepEqual(refusal(game.submitWord('zed', '사과')), [
    'NOT_A_PLAYER',
    'you are not playing this game',
  ]);
  assert.equal(JSON.stringify(game.snapshot()), before);
  assert.equal(host.deliveries.length, sent, 'nothing was broadcast');
  // The word b tried is still free for a.
  assert.ok(game.submitWord('a', '사과').ok);
});

test('timer: a refused word does not extend the turn; running out puts the player out', () => {
  const { host, game } = setup();
  assert.ok(game.submitWord('a', '사과').ok);
  host.advance(9_000);
  assert.equal(game.submitWord('b', '없는말씀').ok, false);
  host.advance(999);
  assert.equal(host.events('game.wordchain.out').length, 0);
  host.advance(1);
  assert.deepEqual(host.last('game.wordchain.out'), { playerId: 'b', reason: 'timeout' });
  // c continues from the same word, with a fresh timer.
  assert.deepEqual(host.last('game.wordchain.turn'), {
    playerId: 'c',
    startsWith: ['과'],
    deadline: host.now() + 10_000,
  });
  assert.deepEqual(refusal(game.submitWord('b', '과일')), [
    'NOT_A_PLAYER',
    'you are out of this game',
  ]);
  assert.ok(game.submitWord('c', '과일').ok);
  assert.equal(host.last('game.wordchain.turn').playerId, 'a', 'b is skipped');
});

test('last one in wins; the game ends, its timers cancelled', () => {
  const { host, game, ended } = setup();
  host.advance(10_000); // a out
  host.advance(10_000); // b out
  const end = host.last('game.ended');
  assert.equal(end.kind, 'wordchain');
  assert.equal(end.reason, 'finished');
  assert.deepEqual(end.winners, ['c']);
  assert.equal(ended(), 1);
  assert.equal(game.over, true);
  assert.equal(host.pendingTimers, 0);
  assert.deepEqual(refusal(game.submitWord('c', '사과')), ['NO_GAME', 'the game is over']);
});

test('a player leaving on their turn: the next player carries on; off turn: just removed', () => {
  const { host, game } = setup();
  assert.ok(game.submitWord('a', '사과').ok);
  game.memberLeft('b'); // b's turn
  assert.deepEqual(host.last('game.wordchain.out'), { playerId: 'b', reason: 'left' });
  assert.equal(host.last('game.wordchain.turn').playerId, 'c');
  assert.deepEqual(host.last('game.wordchain.turn').startsWith, ['과']);
  game.memberLeft('zed'); // not a player: nothing
  game.memberLeft('a'); // not a's turn
  assert.equal(host.last('game.wordchain.out').playerId, 'a');
  assert.deepEqual(host.last('game.ended').winners, ['c']);
  assert.equal(host.pendingTimers, 0);
});

test('a player reconnecting keeps their seat; the snapshot shows the turn and words', () => {
  const { game } = setup([A, B]);
  assert.ok(game.submitWord('a', '사과').ok);
  game.memberJoined({ id: 'b', nickname: 'Bo' });
  const snap = game.snapshot();
  assert.equal(snap.kind, 'wordchain');
  if (snap.kind !== 'wordchain') return;
  assert.equal(snap.turn?.playerId, 'b');
  assert.deepEqual(snap.words, [{ playerId: 'a', word: '사과' }]);
  assert.ok(game.submitWord('b', '과일').ok);
});

test('stop: ends at once with the words each played as scores', () => {
  const { host, game } = setup([A, B]);
  assert.ok(game.submitWord('a', '사과').ok);
  game.stop('stopped');
  const end = host.last('game.ended');
  assert.equal(end.reason, 'stopped');
  assert.deepEqual(end.winners, []);
  assert.deepEqual(
    end.scores.map((s) => [s.playerId, s.score]),
    [
      ['a', 1],
      ['b', 0],
    ],
  );
  assert.equal(host.pendingTimers, 0);
});

test('bots play a long chain from the real dictionary: every legal word is accepted', () => {
  const { host, game } = setup([A, B, C]);
  const used = new Set<string>();
  let moves = 0;
  let dueumMoves = 0;
  while (!game.over && moves < 300) {
    const turn = host.last('game.wordchain.turn');
    const starts = turn.startsWith ?? ['기'];
    // Prefer the word that leaves the next player the most choice.
    const candidates = starts.flatMap((s) => words.startingWith(s)).filter((w) => !used.has(w));
    const choice = (w: string) =>
      allowedStarts(w).reduce((n, s) => n + words.countStartingWith(s), 0);
    const word = candidates.slice(0, 200).sort((x, y) => choice(y) - choice(x))[0];
    if (!word) {
      host.advance(10_000); // nothing left: the bot runs out of time
      continue;
    }
    const result = game.submitWord(turn.playerId, word);
    assert.deepEqual(result, { ok: true }, `${word} after ${starts.join('/')}`);
    if (starts.length === 2 && word.startsWith(starts[0]!)) dueumMoves++;
    used.add(word);
    moves++;
  }
  assert.equal(moves, 300);
  assert.equal(host.events('game.wordchain.word').length, 300);
  assert.ok(dueumMoves > 0, 'some moves went through 두음법칙');
});
