import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCodeOf } from '@tutti/protocol';
import { LoginLimiter } from '../../src/auth/loginLimiter.ts';

const refused = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? errorCodeOf(err);
  }
};

test('attempts are counted before the check runs; the bucket refills over a minute', async () => {
  let now = 0;
  const limiter = new LoginLimiter({
    perAddressPerMinute: 100,
    perAccountPerMinute: 2,
    now: () => now,
  });
  let checks = 0;
  const check = async () => {
    checks++;
  };
  await limiter.attempt('1.1.1.1', 'a@x', check);
  await limiter.attempt('2.2.2.2', 'a@x', check);
  assert.equal(await refused(limiter.attempt('3.3.3.3', 'a@x', check)), 'TOO_MANY_ATTEMPTS');
  assert.equal(checks, 2, 'the refused attempt never reached the check');
  await limiter.attempt('3.3.3.3', 'b@x', check); // other accounts are unaffected
  now += 30_000; // half a minute: one attempt back
  await limiter.attempt('4.4.4.4', 'a@x', check);
  assert.equal(await refused(limiter.attempt('4.4.4.4', 'a@x', check)), 'TOO_MANY_ATTEMPTS');
});

test('one check in flight per address; a refused concurrent attempt still counts', async () => {
  const limiter = new LoginLimiter({ perAddressPerMinute: 3, perAccountPerMinute: 100 });
  let release!: () => void;
  const slow = limiter.attempt('9.9.9.9', 'a@x', () => new Promise<void>((r) => (release = r)));
  await sleep(1);
  assert.equal(
    await refused(limiter.attempt('9.9.9.9', 'b@x', async () => {})),
    'TOO_MANY_ATTEMPTS',
  );
  release();
  await slow;
  await limiter.attempt('9.9.9.9', 'c@x', async () => {}); // third of three
  assert.equal(
    await refused(limiter.attempt('9.9.9.9', 'd@x', async () => {})),
    'TOO_MANY_ATTEMPTS',
  );
  // A failing check frees the address too.
  const other = new LoginLimiter({ perAddressPerMinute: 10, perAccountPerMinute: 10 });
  await assert.rejects(other.attempt('8.8.8.8', 'a@x', async () => Promise.reject(new Error('x'))));
  await other.attempt('8.8.8.8', 'a@x', async () => {});
});
