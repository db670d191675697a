import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodeOf, TuttiError } from '@tutti/protocol';
import { RoomLife } from '../../src/games/roomLife.ts';
import { RecordingHost } from '../helpers/gameHost.ts';

function setup() {
  const host = new RecordingHost();
  const life = new RoomLife({ host, random: () => 0, catchMindWords: ['사과', '기린'] });
  for (const id of ['a', 'b']) life.memberJoined({ id, nickname: id.toUpperCase() });
  return { host, life };
}

const reasonOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TuttiError);
    return err.reason;
  }
  assert.fail('expected a refusal');
};

test('requests are validated before anything runs', async () => {
  const { life, host } = setup();
  assert.match(
    await reasonOf(life.handle({ memberId: 'a' }, 'game.start', { kind: 'chess' })),
    /^INVALID_REQUEST: game.start: kind: /,
  );
  assert.match(
    await reasonOf(life.handle({ memberId: 'a' }, 'game.word', { word: 'x'.repeat(33) })),
    /^INVALID_REQUEST: game.word: word: at most 32 characters/,
  );
  assert.match(
    await reasonOf(
      life.handle({ memberId: 'a' }, 'game.draw', {
        stroke: { color: '#000000', width: 3, points: [[0, 0]] },
      }),
    ),
    /^INVALID_REQUEST: game.draw: stroke.width/,
  );
  // A forged move naming another player: the schemas are strict, and the mover is always
  // the caller's own member id, never a field of the data.
  assert.match(
    await reasonOf(life.handle({ memberId: 'b' }, 'game.word', { word: '사과', playerId: 'a' })),
    /^INVALID_REQUEST: game.word: /,
  );
  assert.match(
    await reasonOf(life.handle({ memberId: 'a' }, 'game.word', null)),
    /^INVALID_REQUEST/,
  );
  assert.match(
    await reasonOf(life.handle({ memberId: 'a' }, 'game.nope' as 'game.word', {})),
    /^UNKNOWN_METHOD/,
  );
  assert.equal(host.deliveries.length, 0);
});

test('a 끝말잇기 over requests: refusals are protoo rejects with the game’s reason', async () => {
  const { life, host } = setup();
  const started = await life.handle({ memberId: 'a' }, 'game.start', {
    kind: 'wordchain',
    options: { seconds: 10 },
  });
  assert.equal(started.game.kind, 'wordchain');
  assert.deepEqual(await life.handle({ memberId: 'a' }, 'game.word', { word: '능력' }), {});
  const reason = await reasonOf(life.handle({ memberId: 'a' }, 'game.word', { word: '역사' }));
  assert.equal(reason, 'FORBIDDEN: NOT_YOUR_TURN: not your turn');
  assert.equal(
    await reasonOf(life.handle({ memberId: 'b' }, 'game.word', { word: '사과' })),
    'INVALID_REQUEST: WRONG_START: must start with 역 or 력',
  );
  assert.equal(errorCodeOf(new Error(reason)), 'FORBIDDEN');
  assert.deepEqual(await life.handle({ memberId: 'b' }, 'game.word', { word: '역사' }), {});
  const state = await life.handle({ memberId: 'b' }, 'game.state', {});
  assert.equal(state.game?.kind === 'wordchain' && state.game.words.length, 2);
  assert.equal(
    await reasonOf(life.handle({ memberId: 'b' }, 'game.stop', {})),
    'FORBIDDEN: NOT_ALLOWED: only who started the game, or a moderator, can stop it',
  );
  assert.deepEqual(await life.handle({ memberId: 'b', moderator: true }, 'game.stop', {}), {});
  assert.equal(host.last('game.ended').reason, 'stopped');
});

test('CatchMind over requests and chat: the drawer draws, guessers guess, the word stays hidden', async () => {
  const { life, host } = setup();
  await life.handle({ memberId: 'a' }, 'game.start', { kind: 'catchmind' });
  const stroke = {
    color: '#e53935',
    width: 8,
    points: [
      [1, 2],
      [3, 4],
    ],
  };
  assert.deepEqual(await life.handle({ memberId: 'a' }, 'game.draw', { stroke }), {});
  assert.match(
    await reasonOf(life.handle({ memberId: 'b' }, 'game.draw', { stroke })),
    /^FORBIDDEN: NOT_DRAWER/,
  );
  assert.equal(life.chat('a', '사과 그리는 중'), 'withhold');
  assert.match(
    await reasonOf(life.handle({ memberId: 'a' }, 'game.guess', { text: '사과' })),
    /^FORBIDDEN: NOT_ALLOWED/,
  );
  for (const wire of host.wireSeenBy('b')) assert.ok(!wire.includes('사과'));
  assert.deepEqual(life.joinExtras('b').game?.kind, 'catchmind');
  assert.ok(!JSON.stringify(life.joinExtras('b')).includes('사과'));
  assert.ok(JSON.stringify(life.joinExtras('a')).includes('사과'));
  assert.deepEqual(await life.handle({ memberId: 'b' }, 'game.guess', { text: '기린' }), {
    correct: false,
  });
  assert.equal(life.chat('b', '사과'), 'correct');
  assert.equal(host.last('game.catchmind.solved').playerId, 'b');
});

test('reactions and hands over requests, broadcast to the room', async () => {
  const { life, host } = setup();
  assert.deepEqual(await life.handle({ memberId: 'a' }, 'reaction.send', { emoji: '👏' }), {});
  assert.deepEqual(host.last('reaction.sent'), { peerId: 'a', emoji: '👏', at: host.now() });
  for (let i = 0; i < 4; i++)
    await life.handle({ memberId: 'a' }, 'reaction.send', { emoji: '👏' });
  assert.match(
    await reasonOf(life.handle({ memberId: 'a' }, 'reaction.send', { emoji: '👏' })),
    /^RATE_LIMITED: RATE_LIMITED: too many reactions/,
  );
  assert.match(
    await reasonOf(life.handle({ memberId: 'a' }, 'reaction.send', { emoji: '💩' })),
    /^INVALID_REQUEST/,
  );

  await life.handle({ memberId: 'b' }, 'hand.raise', {});
  const after = await life.handle({ memberId: 'a' }, 'hand.raise', {});
  assert.deepEqual(
    after.queue.map((h) => h.peerId),
    ['b', 'a'],
  );
  assert.deepEqual(host.last('hand.queue'), after);
  assert.match(
    await reasonOf(life.handle({ memberId: 'a' }, 'hand.lower', { peerId: 'b' })),
    /^FORBIDDEN: NOT_ALLOWED/,
  );
  await life.handle({ memberId: 'm', moderator: true }, 'hand.lower', { peerId: 'b' });
  assert.deepEqual(
    host.last('hand.queue').queue.map((h) => h.peerId),
    ['a'],
  );
  life.memberLeft('a');
  assert.deepEqual(host.last('hand.queue'), { queue: [] }, 'a leaving lowers their hand');
  assert.deepEqual(life.joinExtras('b'), { game: null, hands: { queue: [] } });
});
