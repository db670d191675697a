import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, needsRehash, verifyPassword } from '../../src/auth/passwords.ts';

const COST = { memoryKiB: 19456, passes: 2 };

test('argon2id PHC string; right password verifies, wrong does not; salts differ', async () => {
  const a = await hashPassword('correct horse', COST);
  const b = await hashPassword('correct horse', COST);
  assert.match(a, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword('correct horse', a), true);
  assert.equal(await verifyPassword('correct horsE', a), false);
  assert.equal(await verifyPassword('correct horse', 'not a hash'), false);
});

test('Unicode is normalized (NFC) before hashing', async () => {
  const h = await hashPassword('caf\u00e9 au lait', COST);
  assert.equal(await verifyPassword('cafe\u0301 au lait', h), true);
});

test('a hash keeps its own cost; weaker ones need a rehash', async () => {
  const weak = await hashPassword('pw pw pw pw', { memoryKiB: 1024, passes: 1 });
  assert.equal(await verifyPassword('pw pw pw pw', weak), true);
  assert.equal(needsRehash(weak, COST), true);
  assert.equal(needsRehash(await hashPassword('x', COST), COST), false);
});

test('hashing runs off the main thread: timers keep firing meanwhile', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const started = performance.now();
  await Promise.all([1, 2, 3, 4].map(() => hashPassword('busy busy', COST)));
  const elapsed = performance.now() - started;
  clearInterval(timer);
  // A synchronous hash would freeze the loop for the whole time (0 or 1 tick).
  assert.ok(ticks >= Math.min(5, elapsed / 10), `${ticks} ticks in ${elapsed.toFixed(0)} ms`);
});
