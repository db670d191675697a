import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, startAuthApp, uniqueEmail } from '../helpers/authApp.ts';

// Login rate limits: per account, per address, and one hash in flight per address.

describe('login rate limits', () => {
  test('per account, from any address, counted before the hash: the right password is refused after the burst', async () => {
    const t = await startAuthApp({
      auth: { loginsPerMinutePerAccount: 3, loginsPerMinutePerAddress: 100 },
    });
    try {
      const email = uniqueEmail();
      await call(t.app, 'POST', '/api/auth/signup', {
        body: { email, password: 'right password' },
        ip: '10.9.9.9',
      });
      for (let i = 0; i < 3; i++) {
        const r = await call(t.app, 'POST', '/api/auth/login', {
          body: { email, password: 'wrong!!!' },
          ip: `10.1.0.${i}`,
        });
        assert.equal(r.json.error, 'INVALID_CREDENTIALS');
      }
      const ok = await call(t.app, 'POST', '/api/auth/login', {
        body: { email, password: 'right password' },
        ip: '10.1.1.1',
      });
      assert.equal(ok.status, 429);
      assert.equal(ok.json.error, 'TOO_MANY_ATTEMPTS');
    } finally {
      await t.close();
    }
  });

  test('per address, across accounts', async () => {
    const t = await startAuthApp({
      auth: { loginsPerMinutePerAccount: 100, loginsPerMinutePerAddress: 3 },
    });
    try {
      const codes: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await call(t.app, 'POST', '/api/auth/login', {
          body: { email: uniqueEmail(), password: 'whatever1' },
          ip: '10.2.0.1',
        });
        codes.push(r.json.error);
      }
      assert.deepEqual(codes, [
        'INVALID_CREDENTIALS',
        'INVALID_CREDENTIALS',
        'INVALID_CREDENTIALS',
        'TOO_MANY_ATTEMPTS',
      ]);
      const other = await call(t.app, 'POST', '/api/auth/login', {
        body: { email: uniqueEmail(), password: 'whatever1' },
        ip: '10.2.0.2',
      });
      assert.equal(other.json.error, 'INVALID_CREDENTIALS');
    } finally {
      await t.close();
    }
  });

  test('concurrent logins from one address: one hash in flight, the others refused but counted', async () => {
    const t = await startAuthApp({
      auth: {
        loginsPerMinutePerAccount: 5,
        loginsPerMinutePerAddress: 100,
        argon2MemoryKiB: 19456,
        argon2Passes: 2,
      },
    });
    try {
      const email = uniqueEmail();
      await call(t.app, 'POST', '/api/auth/signup', {
        body: { email, password: 'right password' },
        ip: '10.3.0.9',
      });
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          call(t.app, 'POST', '/api/auth/login', {
            body: { email, password: 'wrong guess' },
            ip: '10.3.0.1',
          }),
        ),
      );
      const codes = results.map((r) => r.json.error).sort();
      assert.deepEqual(codes, [
        'INVALID_CREDENTIALS',
        'TOO_MANY_ATTEMPTS',
        'TOO_MANY_ATTEMPTS',
        'TOO_MANY_ATTEMPTS',
        'TOO_MANY_ATTEMPTS',
      ]);
      // All five spent the account's burst although only one was hashed.
      const ok = await call(t.app, 'POST', '/api/auth/login', {
        body: { email, password: 'right password' },
        ip: '10.3.0.2',
      });
      assert.equal(ok.json.error, 'TOO_MANY_ATTEMPTS');
    } finally {
      await t.close();
    }
  });
});
