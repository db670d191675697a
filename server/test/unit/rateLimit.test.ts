import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedRateLimiter, TokenBucket } from '../../src/kernel/rateLimit.ts';

test('token bucket: burst at once, then ratePerSecond', () => {
  let now = 0;
  const b = new TokenBucket({ ratePerSecond: 2, burst: 3, now: () => now });
  assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false]);
  now += 499;
  assert.equal(b.take(), false);
  now += 1;
  assert.equal(b.take(), true);
  assert.equal(b.full, false);
  now += 10_000;
  assert.equal(b.full, true);
});

test('keyed limiter: keys are independent; prune drops refilled buckets', () => {
  let now = 0;
  const l = new KeyedRateLimiter({ ratePerSecond: 1 / 60, burst: 2, now: () => now });
  assert.deepEqual([l.take('a'), l.take('a'), l.take('a')], [true, true, false]);
  assert.equal(l.take('b'), true);
  assert.equal(l.size, 2);
  now += 60_000;
  l.prune();
  assert.equal(l.size, 1, 'b refilled and was dropped; a is still one short');
  now += 60_000;
  l.prune();
  assert.equal(l.size, 0);
});
