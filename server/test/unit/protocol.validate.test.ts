/**
 * validateRequest turns every bad request into INVALID_REQUEST, including values that make
 * zod itself throw (the fuzzer's case: an object whose `length` cannot become a number).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TuttiError } from '@tutti/protocol';
import { z } from 'zod';
import { safeParseInput, validateRequest } from '@tutti/protocol/schemas';

const invalid = (err: unknown): boolean =>
  err instanceof TuttiError && err.code === 'INVALID_REQUEST';

test('room.join whose media.transports is an object with an unreadable length: INVALID_REQUEST', () => {
  // From fuzz.property (seed 1364548347): zod 4.6's max-length check read `length` and threw.
  const data = JSON.parse(
    '{"roomId":"","password":[],"media":{"transports":{"length":{"toString":[]}}}}',
  ) as unknown;
  assert.throws(() => validateRequest('room.join', data), invalid);
  const alone = { roomId: 'r1', media: { transports: { length: { toString: [] } } } };
  assert.throws(() => validateRequest('room.join', alone), invalid);
});

test('a valid room.join still passes', () => {
  const v = validateRequest('room.join', { roomId: 'r1', media: { transports: ['recv'] } });
  assert.deepEqual(v.media?.transports, ['recv']);
});

test('safeParseInput answers a failure where zod itself would throw', () => {
  const bad = JSON.parse('{"length":{"toString":[]}}') as unknown;
  assert.throws(
    () => z.string().max(3).safeParse(bad),
    TypeError,
    'zod still throws here (if not, safeParseInput may go)',
  );
  const r = safeParseInput(z.string().max(3), bad);
  assert.equal(r.success, false);
  assert.equal(safeParseInput(z.string().max(3), 'abc').success, true);
});
