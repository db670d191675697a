import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HandQueue } from '../../src/games/handQueue.ts';
import { ReactionGate } from '../../src/games/reactions.ts';
import { refusalError, refuse } from '../../src/games/refusal.ts';
import { gameRequestSchemas, REACTION_EMOJI } from '../../src/games/protocol.ts';

test('reactions: only the offered emoji; a burst per person, then one a second', () => {
  let now = 0;
  const gate = new ReactionGate({ now: () => now });
  const first = gate.react('a', '👍');
  assert.deepEqual(first, { ok: true, reaction: { peerId: 'a', emoji: '👍', at: 0 } });
  const bad = gate.react('a', '💩');
  assert.equal(!bad.ok && bad.refusal.code, 'NOT_ALLOWED');
  assert.equal(!gate.react('a', '<script>').ok, true);
  for (let i = 0; i < 4; i++) assert.ok(gate.react('a', '🎉').ok);
  const limited = gate.react('a', '🎉');
  assert.equal(!limited.ok && limited.refusal.code, 'RATE_LIMITED');
  assert.ok(gate.react('b', '🎉').ok, 'people are limited separately');
  now += 1_000;
  assert.ok(gate.react('a', '👏').ok);
  assert.equal(gate.react('a', '👏').ok, false);
});

test('reaction requests validate the emoji too', () => {
  const schema = gameRequestSchemas['reaction.send'];
  for (const emoji of REACTION_EMOJI) assert.ok(schema.safeParse({ emoji }).success, emoji);
  assert.equal(schema.safeParse({ emoji: 'x' }).success, false);
  assert.equal(schema.safeParse({ emoji: '👍', extra: 1 }).success, false);
});

test('raised hands: an ordered queue; raising twice keeps one’s place', () => {
  let now = 100;
  const hands = new HandQueue({ now: () => now++ });
  assert.deepEqual(hands.raise('b'), { changed: true });
  assert.deepEqual(hands.raise('a'), { changed: true });
  assert.deepEqual(hands.raise('b'), { changed: false });
  hands.raise('c');
  assert.deepEqual(hands.state(), {
    queue: [
      { peerId: 'b', raisedAt: 100 },
      { peerId: 'a', raisedAt: 101 },
      { peerId: 'c', raisedAt: 102 },
    ],
  });
  assert.equal(hands.isRaised('a'), true);
});

test('raised hands: lowered by oneself or a moderator, and when one leaves', () => {
  const hands = new HandQueue();
  hands.raise('a');
  hands.raise('b');
  hands.raise('c');
  const forged = hands.lower('a', { target: 'b' });
  assert.equal(!forged.ok && forged.refusal.code, 'NOT_ALLOWED');
  assert.equal(hands.isRaised('b'), true, 'a refusal changes nothing');
  assert.ok(hands.lower('a').ok);
  assert.ok(hands.lower('m', { target: 'b', moderator: true }).ok);
  const again = hands.lower('a');
  assert.equal(!again.ok && again.refusal.code, 'NOT_RAISED');
  assert.equal(hands.memberLeft('c'), true);
  assert.equal(hands.memberLeft('c'), false);
  assert.deepEqual(hands.state(), { queue: [] });
});

test('refusals become protoo rejects with a stable code and the game’s reason', () => {
  const turn = refusalError(refuse('NOT_YOUR_TURN', 'not your turn').refusal);
  assert.equal(turn.code, 'FORBIDDEN');
  assert.equal(turn.reason, 'FORBIDDEN: NOT_YOUR_TURN: not your turn');
  const start = refusalError(refuse('WRONG_START', 'must start with 역 or 력').refusal);
  assert.equal(start.reason, 'INVALID_REQUEST: WRONG_START: must start with 역 or 력');
  assert.equal(refusalError(refuse('RATE_LIMITED', 'drawing too fast').refusal).status, 429);
});
