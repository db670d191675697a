import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nicknameSchema, requestSchemas, roomNameSchema } from '@tutti/protocol/schemas';

test('nicknames lose bidi overrides and control characters', () => {
  assert.equal(nicknameSchema.parse('ali\u202Eecilab\u0007'), 'aliecilab');
  assert.equal(nicknameSchema.parse('\u2066bob\u2069\u200B \u0000'), 'bob');
  assert.equal(nicknameSchema.parse('  Zoë\tDoe  '), 'ZoëDoe');
  // Right-to-left letters themselves stay.
  assert.equal(nicknameSchema.parse('שרה'), 'שרה');
  const joined = requestSchemas['room.join'].parse({ roomId: 'r1', nickname: 'ev\u202Dil\u001b' });
  assert.equal(joined.nickname, 'evil');
});

test('a nickname made only of invisible characters is empty, hence refused', () => {
  const result = requestSchemas['room.join'].safeParse({
    roomId: 'r1',
    nickname: '\u202E\u0007\u200F',
  });
  assert.equal(result.success, false);
});

test('the 32-character limit applies after stripping', () => {
  assert.equal(nicknameSchema.safeParse(`${'a'.repeat(32)}\u202E`).success, true);
});

test('room names are display text too: stripped the same way', () => {
  assert.equal(roomNameSchema.parse('Team\u202E room'), 'Team room');
});
