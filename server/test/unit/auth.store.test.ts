import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { SqliteAuthStore } from '../../src/auth/SqliteAuthStore.ts';
import { EmailTakenError, type AuthStore, type UserRecord } from '../../src/auth/store.ts';

/** The AuthStore contract; a PostgreSQL store (with the cluster) runs the same checks. */
export function authStoreContract(name: string, make: () => Promise<AuthStore>): void {
  const user = (id: string, email: string | null): UserRecord => ({
    id,
    email,
    emailVerified: false,
    name: id,
    passwordHash: null,
    createdAt: 1,
  });

  test(`${name}: users are unique by email; deleting one takes its identities and sessions`, async () => {
    const s = await make();
    await s.createUser(user('u1', 'a@x'));
    await s.createUser(user('u2', null));
    await s.createUser(user('u3', null)); // many users without email
    await assert.rejects(s.createUser(user('u4', 'a@x')), EmailTakenError);
    await s.addIdentity({ provider: 'p', subject: 's1', userId: 'u1', email: 'a@x', createdAt: 1 });
    await s.createSession({ tokenHash: 'h1', userId: 'u1', createdAt: 1, expiresAt: 100 });
    await s.updateUser('u1', { emailVerified: true, passwordHash: 'phc', name: 'Ann' });
    assert.deepEqual(await s.userByEmail('a@x'), {
      ...user('u1', 'a@x'),
      emailVerified: true,
      passwordHash: 'phc',
      name: 'Ann',
    });
    assert.equal((await s.identity('p', 's1'))?.userId, 'u1');
    await s.deleteUser('u1');
    assert.equal(await s.userById('u1'), undefined);
    assert.equal(await s.identity('p', 's1'), undefined);
    assert.equal(await s.session('h1', 0), undefined);
    assert.equal((await s.userById('u2'))?.id, 'u2');
  });

  test(`${name}: sessions expire, and all but one can be ended`, async () => {
    const s = await make();
    await s.createUser(user('u1', 'b@x'));
    for (const h of ['a', 'b', 'c'])
      await s.createSession({ tokenHash: h, userId: 'u1', createdAt: 1, expiresAt: 100 });
    assert.ok(await s.session('a', 99));
    assert.equal(await s.session('a', 100), undefined);
    await s.deleteSessionsOf('u1', 'b');
    assert.equal(await s.session('a', 0), undefined);
    assert.ok(await s.session('b', 0));
    await s.deleteSession('b');
    assert.equal(await s.session('b', 0), undefined);
  });

  test(`${name}: a login flow is taken once, and not after it expired`, async () => {
    const s = await make();
    const flow = {
      id: 'f1',
      provider: 'p',
      state: 's',
      nonce: 'n',
      codeVerifier: null,
      redirectUri: 'http://x/cb',
      returnTo: '/',
      expiresAt: 100,
    };
    await s.putLoginFlow(flow);
    assert.deepEqual(await s.takeLoginFlow('f1', 50), flow);
    assert.equal(await s.takeLoginFlow('f1', 50), undefined);
    await s.putLoginFlow({ ...flow, id: 'f2' });
    assert.equal(await s.takeLoginFlow('f2', 100), undefined);
    await s.putLoginFlow({ ...flow, id: 'f3' });
    await s.prune(200);
    assert.equal(await s.takeLoginFlow('f3', 0), undefined);
  });
}

authStoreContract('SqliteAuthStore', async () => new SqliteAuthStore(new DatabaseSync(':memory:')));
