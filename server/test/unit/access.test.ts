import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@tutti/config';
import { errorCodeOf, TuttiError } from '@tutti/protocol';
import { RoomAccess, type AccessOptions } from '../../src/rooms/access.ts';
import { AttemptLimiter, isRefusal } from '../../src/rooms/attempts.ts';
import { hashOwnerSecret, hashPassword, newOwnerSecret } from '../../src/rooms/security.ts';

// Issue 10, defects 2 and 3: RoomAccess counts a guess before hashing it, runs one scrypt per
// address at a time, and keys the password limiter by address and room.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (err: unknown) => (err instanceof TuttiError ? err.code : errorCodeOf(err)),
  );
}

function config(rooms: Record<string, unknown> = {}) {
  return loadConfig({ rooms }, { TUTTI_CONFIG: undefined, NO: '1' });
}

/** A fake password check that records how many run at once (per address and overall). */
function instrumented(ms = 10) {
  const byAddress = new Map<string, number>();
  const state = { running: 0, maxRunning: 0, maxPerAddress: 0, calls: 0 };
  const verify = async (password: string, hash: string): Promise<boolean> => {
    const ip = password.split('|')[0]!;
    state.calls++;
    state.running++;
    byAddress.set(ip, (byAddress.get(ip) ?? 0) + 1);
    state.maxRunning = Math.max(state.maxRunning, state.running);
    state.maxPerAddress = Math.max(state.maxPerAddress, byAddress.get(ip)!);
    await sleep(ms);
    state.running--;
    byAddress.set(ip, byAddress.get(ip)! - 1);
    return password === hash;
  };
  return { state, verify };
}

function access(rooms: Record<string, unknown>, opts: Omit<AccessOptions, 'now'> = {}) {
  return new RoomAccess(config(rooms), { now: Date.now, ...opts });
}

test('20 concurrent verifications from one address: at most one hash runs at a time', async () => {
  const { state, verify } = instrumented();
  const a = access({}, { verify, maxQueuedPerAddress: 20, maxHashesRunning: 4 });
  // 20 rooms, so the per-room limit (5) refuses none: the gate alone serializes them.
  const codes = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      codeOf(a.checkPassword(`room${i}`, 'right', '1.1.1.1|wrong', '1.1.1.1')),
    ),
  );
  assert.deepEqual(new Set(codes), new Set(['BAD_PASSWORD']));
  assert.equal(state.calls, 20);
  assert.equal(state.maxPerAddress, 1);
  assert.equal(state.maxRunning, 1);
});

test('other addresses are not queued behind one brute force; the overall cap holds', async () => {
  const { state, verify } = instrumented(20);
  const a = access({}, { verify, maxQueuedPerAddress: 20, maxHashesRunning: 2 });
  const guesses = Array.from({ length: 10 }, (_, i) =>
    codeOf(a.checkPassword(`r${i}`, 'x', '6.6.6.6|wrong', '6.6.6.6')),
  );
  const started = performance.now();
  await a.checkPassword('mine', '7.7.7.7|pw', '7.7.7.7|pw', '7.7.7.7');
  assert.ok(performance.now() - started < 150, 'the second address got the free slot at once');
  await Promise.all(guesses);
  assert.equal(state.maxPerAddress, 1);
  assert.equal(state.maxRunning, 2);
  // Three addresses at once: never more than maxHashesRunning.
  state.maxRunning = 0;
  await Promise.all(
    ['a', 'b', 'c'].flatMap((ip) =>
      [1, 2].map((n) => codeOf(a.checkPassword(`q${n}`, 'x', `${ip}|w`, ip))),
    ),
  );
  assert.equal(state.maxRunning, 2);
});

test('concurrent wrong guesses for one room: only the limit is evaluated, then it is locked', async () => {
  const { state, verify } = instrumented();
  const a = access({ passwordMaxAttempts: 5 }, { verify });
  const codes = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      codeOf(a.checkPassword('vault', 'ip|right', `ip|wrong${i}`, 'ip')),
    ),
  );
  assert.equal(state.calls, 5, 'five hashes, not twenty');
  assert.equal(codes.filter((c) => c === 'BAD_PASSWORD').length, 5);
  assert.equal(codes.filter((c) => c === 'TOO_MANY_ATTEMPTS').length, 15);
  assert.equal(
    await codeOf(a.checkPassword('vault', 'ip|right', 'ip|right', 'ip')),
    'TOO_MANY_ATTEMPTS',
  );
  assert.equal(state.calls, 5, 'a locked key is refused before any hash');
  // Another room from the same address, and the same room from another address, still work.
  await a.checkPassword('other', 'ip|pw', 'ip|pw', 'ip');
  await a.checkPassword('vault', 'ip2|right', 'ip2|right', 'ip2');
});

test('a right password is refunded; a missing one is not counted at all', async () => {
  const { state, verify } = instrumented(1);
  const a = access({ passwordMaxAttempts: 5 }, { verify });
  for (let i = 0; i < 10; i++) {
    assert.equal(await codeOf(a.checkPassword('r', 'ip|pw', undefined, 'ip')), 'BAD_PASSWORD');
  }
  assert.equal(state.calls, 0, 'no password, no hash');
  for (let i = 0; i < 4; i++) {
    assert.equal(await codeOf(a.checkPassword('r', 'ip|pw', 'ip|no', 'ip')), 'BAD_PASSWORD');
  }
  for (let i = 0; i < 3; i++) await a.checkPassword('r', 'ip|pw', 'ip|pw', 'ip');
  assert.equal(await codeOf(a.checkPassword('r', 'ip|pw', 'ip|no', 'ip')), 'BAD_PASSWORD');
  assert.equal(await codeOf(a.checkPassword('r', 'ip|pw', 'ip|pw', 'ip')), 'TOO_MANY_ATTEMPTS');
  assert.equal(await codeOf(a.checkPassword('r', 'ip|pw', undefined, 'ip')), 'TOO_MANY_ATTEMPTS');
});

test('a full queue is refused at once and costs no attempt', async () => {
  const { state, verify } = instrumented(30);
  const a = access({ passwordMaxAttempts: 5 }, { verify, maxQueuedPerAddress: 2 });
  // One running + two waiting; the next ones (other rooms, so the limiter allows them) are refused.
  const codes = await Promise.all(
    Array.from({ length: 6 }, (_, i) => codeOf(a.checkPassword(`r${i}`, 'x', 'ip|no', 'ip'))),
  );
  assert.deepEqual(codes, [
    'BAD_PASSWORD',
    'BAD_PASSWORD',
    'BAD_PASSWORD',
    'TOO_MANY_ATTEMPTS',
    'TOO_MANY_ATTEMPTS',
    'TOO_MANY_ATTEMPTS',
  ]);
  assert.equal(state.calls, 3);
  // r5 was refused unevaluated: its five attempts are all still there.
  for (let i = 0; i < 5; i++) {
    assert.equal(await codeOf(a.checkPassword('r5', 'x', 'ip|no', 'ip')), 'BAD_PASSWORD');
  }
  assert.equal(await codeOf(a.checkPassword('r5', 'x', 'x', 'ip')), 'TOO_MANY_ATTEMPTS');
});

test('owner secrets: no lockout, and wrong ones never touch the password limiter', async () => {
  const { verify } = instrumented(1);
  const a = access({ passwordMaxAttempts: 2 }, { verify });
  const secret = newOwnerSecret();
  const hash = hashOwnerSecret(secret);
  for (let i = 0; i < 50; i++) {
    assert.throws(() => a.checkOwner(hash, `guess${i}`), { code: 'FORBIDDEN' });
  }
  a.checkOwner(hash, secret);
  await a.checkPassword('r', 'ip|pw', 'ip|pw', 'ip');
});

test('limiter: a reservation counts until settled, settles once, and a failure can lock', () => {
  let now = 1_000_000;
  const l = new AttemptLimiter({
    maxAttempts: 2,
    windowMs: 60_000,
    lockoutMs: 300_000,
    now: () => now,
  });
  const first = l.reserve('k');
  const second = l.reserve('k');
  const third = l.reserve('k');
  assert.ok(!isRefusal(first) && !isRefusal(second));
  assert.ok(isRefusal(third) && third.refused === 'busy');
  first.succeeded();
  first.failed(); // Already settled: ignored.
  const again = l.reserve('k');
  assert.ok(!isRefusal(again));
  second.failed();
  again.failed();
  const locked = l.reserve('k');
  assert.ok(isRefusal(locked) && locked.refused === 'locked' && locked.retryInMs === 300_000);
  now += 300_001;
  assert.ok(!isRefusal(l.reserve('k')), 'lockout expires');
});

test('100 wrong guesses with real scrypt leave the threadpool to file reads', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tutti-access-'));
  try {
    const file = path.join(dir, 'small.txt');
    writeFileSync(file, 'hello');
    const stored = await hashPassword('right');
    const a = access(
      { passwordMaxAttempts: 1000 },
      { maxQueuedPerAddress: 100, maxHashesRunning: 2 },
    );
    let done = false;
    const guesses = Promise.all(
      Array.from({ length: 100 }, (_, i) => codeOf(a.checkPassword('r', stored, `no${i}`, 'ip'))),
    ).finally(() => (done = true));
    let worst = 0;
    let reads = 0;
    while (!done) {
      const t = performance.now();
      await readFile(file);
      worst = Math.max(worst, performance.now() - t);
      reads++;
      await sleep(20);
    }
    const codes = await guesses;
    assert.deepEqual(new Set(codes), new Set(['BAD_PASSWORD']));
    assert.ok(reads > 10, `${reads} reads`);
    assert.ok(worst < 200, `a small file read took ${worst.toFixed(0)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
