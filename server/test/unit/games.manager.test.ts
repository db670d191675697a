import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  KoreanDictionary,
  loadKoreanDictionary,
  type WordList,
} from '../../src/games/dictionary.ts';
import { GameManager } from '../../src/games/manager.ts';
import type { MoveResult } from '../../src/games/refusal.ts';
import { RecordingHost } from '../helpers/gameHost.ts';

const code = (r: MoveResult) => (r.ok ? 'ok' : r.refusal.code);

function setup(opts: { members?: string[]; loadWords?: () => Promise<WordList> } = {}) {
  const host = new RecordingHost();
  const games = new GameManager({
    host,
    random: () => 0,
    catchMindWords: ['사과', '기린'],
    ...(opts.loadWords ? { loadWords: opts.loadWords } : {}),
  });
  for (const id of opts.members ?? ['a', 'b', 'c']) games.memberJoined({ id, nickname: id });
  return { host, games };
}

test('one game at a time; anyone in the room starts one; the starter plays first', async () => {
  const { host, games } = setup();
  assert.equal(code(await games.start('zed', 'wordchain')), 'NOT_A_PLAYER');
  assert.equal(code(await games.start('b', 'wordchain', { seconds: 5 })), 'ok');
  assert.equal(games.kind, 'wordchain');
  assert.deepEqual(host.last('game.wordchain.turn'), {
    playerId: 'b',
    startsWith: null,
    deadline: host.now() + 5_000,
  });
  assert.equal(code(await games.start('a', 'choseong')), 'GAME_RUNNING');
  assert.equal(games.kind, 'wordchain');
});

test('two starts at once (dictionary still loading): the second is refused', async () => {
  let release: (w: WordList) => void = () => {};
  const pending = new Promise<WordList>((resolve) => (release = resolve));
  const { games } = setup({ loadWords: () => pending });
  const first = games.start('a', 'choseong');
  const second = games.start('b', 'wordchain');
  const third = games.start('c', 'catchmind');
  release(new KoreanDictionary(['자동차', '무지개', '냉장고']));
  assert.equal(code(await third), 'GAME_RUNNING', 'CatchMind needs no dictionary, still waits');
  assert.deepEqual([code(await first), code(await second)], ['ok', 'GAME_RUNNING']);
  assert.equal(games.kind, 'choseong');
});

test('player minimums: 끝말잇기 and CatchMind need two, the quiz one', async () => {
  const { games } = setup({ members: ['a'] });
  assert.equal(code(await games.start('a', 'wordchain')), 'NOT_ENOUGH_PLAYERS');
  assert.equal(code(await games.start('a', 'catchmind')), 'NOT_ENOUGH_PLAYERS');
  assert.equal(code(await games.start('a', 'choseong')), 'ok');
});

test('moves go to the running game; the wrong kind of move or no game is refused', async () => {
  const { host, games } = setup();
  assert.equal(code(games.word('a', '사과')), 'NO_GAME');
  assert.equal(code(games.draw('a', {})), 'NO_GAME');
  assert.equal(games.guess('a', '사과'), 'none');
  await games.start('a', 'wordchain');
  assert.equal(code(games.draw('a', {})), 'WRONG_GAME');
  assert.equal(code(games.clearCanvas('a')), 'WRONG_GAME');
  assert.equal(code(games.word('b', '사과')), 'NOT_YOUR_TURN');
  assert.equal(code(games.word('zed', '사과')), 'NOT_A_PLAYER', 'not in the room');
  assert.equal(code(games.word('a', '사과')), 'ok');
  assert.equal(host.last('game.wordchain.word').word, '사과');
});

test('stop: by the starter or a moderator only; then a new game may start', async () => {
  const { host, games } = setup();
  await games.start('a', 'catchmind');
  assert.equal(code(games.stop('b')), 'NOT_ALLOWED');
  assert.equal(games.kind, 'catchmind');
  assert.equal(code(games.stop('b', { moderator: true })), 'ok');
  assert.equal(host.last('game.ended').reason, 'stopped');
  assert.equal(games.kind, undefined);
  assert.equal(host.pendingTimers, 0);
  assert.equal(code(games.stop('a')), 'NO_GAME');
  assert.equal(code(await games.start('c', 'choseong')), 'ok');
});

test('a game that finishes on its own frees the room for the next', async () => {
  const { host, games } = setup({ members: ['a', 'b'] });
  await games.start('a', 'wordchain', { seconds: 5 });
  host.advance(5_000); // a runs out of time; b wins
  assert.deepEqual(host.last('game.ended').winners, ['b']);
  assert.equal(games.kind, undefined);
  assert.equal(games.snapshot('a'), null);
  assert.equal(code(await games.start('b', 'catchmind')), 'ok');
});

test('reconnecting: the member gets a snapshot of the game (the drawer, with the word)', async () => {
  const { host, games } = setup();
  await games.start('a', 'catchmind');
  host.clear();
  games.memberJoined({ id: 'a', nickname: 'a (again)' });
  games.memberJoined({ id: 'b', nickname: 'b' });
  const [toA, toB] = host.deliveries;
  assert.equal(toA?.to, 'a');
  assert.equal(toA?.event.method, 'game.snapshot');
  assert.ok(toA?.wire.includes('사과'), 'the drawer is told the word again');
  assert.equal(toB?.to, 'b');
  assert.ok(!toB?.wire.includes('사과'), 'a guesser is not');
  const scores = games.snapshot('b');
  assert.equal(
    scores?.kind === 'catchmind' && scores.scores.find((s) => s.playerId === 'a')?.nickname,
    'a (again)',
  );
});

test('leaving mid-game goes to the game: a 끝말잇기 player on turn is out, the next goes on', async () => {
  const { host, games } = setup();
  await games.start('a', 'wordchain');
  games.memberLeft('a');
  assert.deepEqual(host.last('game.wordchain.out'), { playerId: 'a', reason: 'left' });
  assert.equal(host.last('game.wordchain.turn').playerId, 'b');
  assert.equal(code(games.word('a', '사과')), 'NOT_A_PLAYER');
  assert.equal(code(games.word('b', '사과')), 'ok');
});

test('the room emptying ends the game and forgets it (timers too)', async () => {
  const { host, games } = setup();
  await games.start('a', 'choseong');
  for (const id of ['a', 'b', 'c']) games.memberLeft(id);
  assert.equal(host.last('game.ended').reason, 'room-empty');
  assert.equal(games.kind, undefined);
  assert.equal(games.snapshot('a'), null);
  assert.equal(host.pendingTimers, 0);
  host.advance(10 * 60_000);
  assert.equal(host.events('game.choseong.round').length, 1, 'no round after that');
  assert.equal(code(await games.start('a', 'choseong')), 'NOT_A_PLAYER', 'members forgotten');
});

test('the room emptying while the dictionary loads: the start gives up', async () => {
  let release: (w: WordList) => void = () => {};
  const pending = new Promise<WordList>((resolve) => (release = resolve));
  const { host, games } = setup({ loadWords: () => pending });
  const start = games.start('a', 'wordchain');
  games.roomEmptied();
  release(await loadKoreanDictionary());
  assert.equal(code(await start), 'NO_GAME');
  assert.equal(games.kind, undefined);
  assert.equal(host.events('game.started').length, 0);
});

test('a quiz player reconnecting gets the initials, never the answer', async () => {
  const words = new KoreanDictionary(['자동차']);
  const { host, games } = setup({ loadWords: async () => words });
  await games.start('a', 'choseong');
  host.clear();
  games.memberJoined({ id: 'b', nickname: 'b' });
  const [snapshot] = host.deliveries;
  assert.equal(snapshot?.event.method, 'game.snapshot');
  assert.ok(snapshot?.wire.includes('ㅈㄷㅊ'));
  assert.ok(!snapshot?.wire.includes('자동차'));
  assert.equal(games.guess('b', '자동차'), 'correct');
});
