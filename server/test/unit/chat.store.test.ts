import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedRateLimiter as RateLimiter } from '../../src/kernel/rateLimit.ts';

// The chat history's own tests are in the store suite (store.test.ts: SQLite and PostgreSQL).

test('rate limiter: burst, then the sustained rate, per key', () => {
  let now = 0;
  const rl = new RateLimiter({ ratePerSecond: 10, burst: 3, now: () => now });
  assert.deepEqual(
    [rl.take('a'), rl.take('a'), rl.take('a'), rl.take('a')],
    [true, true, true, false],
  );
  assert.equal(rl.take('b'), true, 'other keys are unaffected');
  now += 100;
  assert.equal(rl.take('a'), true);
  assert.equal(rl.take('a'), false);
  now += 10_000;
  assert.deepEqual(
    [rl.take('a'), rl.take('a'), rl.take('a'), rl.take('a')],
    [true, true, true, false],
  );
  rl.forget('a');
  rl.forget('b');
  assert.equal(rl.size, 0);
});
