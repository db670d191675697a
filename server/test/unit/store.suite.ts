import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmailTakenError, type UserRecord } from '../../src/store/authStore.ts';
import type { NewChatMessage } from '../../src/store/chatStore.ts';
import type { Stores } from '../../src/store/createStore.ts';
import { NameTakenError, NO_ROOM_SETTINGS, type RoomRecord } from '../../src/store/RoomStore.ts';
import { chatBatchSuite } from './store.chatBatch.suite.ts';

/**
 * One database for one test: `open()` opens the stores on it (again after a close: the
 * data is still there), `drop()` removes it.
 */
export interface TestDatabase {
  open(): Promise<Stores>;
  drop(): Promise<void>;
}

/** The one store contract (rooms, chat, accounts) both SQLite and PostgreSQL pass. */
export function storeSuite(name: string, fresh: () => Promise<TestDatabase>): void {
  /** Runs `body` on fresh stores; closes them and drops the database afterwards. */
  const withStores = async (body: (s: Stores, db: TestDatabase) => Promise<void>) => {
    const db = await fresh();
    const stores = await db.open();
    try {
      await body(stores, db);
    } finally {
      try {
        await stores.close();
      } finally {
        await db.drop();
      }
    }
  };

  // ── Rooms ───────────────────────────────────────────────────────────────────────────

  const room = (id: string, nameKey: string, createdAt: number): RoomRecord => ({
    id,
    name: nameKey.toUpperCase(),
    nameKey,
    passwordHash: null,
    capacity: null,
    ownerSecretHash: `h-${id}`,
    createdAt,
    emptySince: createdAt,
    ownerAccountId: null,
    settings: NO_ROOM_SETTINGS,
    e2ee: false,
  });

  test(`${name}: rooms are listed by creation; names are unique; updates and deletes stick`, () =>
    withStores(async ({ rooms }) => {
      await rooms.insert(room('b', 'beta', 2));
      await rooms.insert(room('a', 'alpha', 1));
      await rooms.insert({ ...room('c', 'gamma', 2), passwordHash: 'pw', capacity: 7, e2ee: true });
      await assert.rejects(rooms.insert(room('d', 'alpha', 3)), NameTakenError);
      await assert.rejects(rooms.update({ ...room('b', 'gamma', 2) }), NameTakenError);
      assert.deepEqual(
        (await rooms.list()).map((r) => r.id),
        ['a', 'b', 'c'],
      );
      await rooms.update({ ...room('b', 'delta', 2), name: 'Delta', capacity: 3 });
      await rooms.setEmptySince('a', null);
      await rooms.setEmptySince('c', 1_700_000_000_123);
      await rooms.delete('missing'); // no-op
      const byId = new Map((await rooms.list()).map((r) => [r.id, r]));
      assert.deepEqual(byId.get('a'), { ...room('a', 'alpha', 1), emptySince: null });
      for (const id of ['a', 'b', 'c']) assert.deepEqual(await rooms.get(id), byId.get(id));
      assert.equal(await rooms.get('missing'), undefined);
      assert.deepEqual(byId.get('b'), { ...room('b', 'delta', 2), name: 'Delta', capacity: 3 });
      assert.deepEqual(byId.get('c'), {
        ...room('c', 'gamma', 2),
        passwordHash: 'pw',
        capacity: 7,
        e2ee: true,
        emptySince: 1_700_000_000_123,
      });
      await rooms.delete('b');
      await rooms.insert(room('e', 'beta', 4)); // the name is free again
      assert.deepEqual(
        (await rooms.list()).map((r) => r.id),
        ['a', 'c', 'e'],
      );
    }));

  test(`${name}: a room's owner account and moderation settings are kept; update() leaves the settings`, () =>
    withStores(async ({ rooms }, db) => {
      await rooms.insert({ ...room('o', 'owned', 1), ownerAccountId: 'acct-1' });
      await rooms.insert(room('g', 'guests', 2));
      const settings = { waitingRoom: true, moderatorsUnmute: false, signedInOnly: true };
      await rooms.setSettings('o', settings);
      await rooms.update({ ...room('o', 'owned2', 1), name: 'Owned 2', ownerAccountId: 'acct-1' });
      const expected = {
        ...room('o', 'owned2', 1),
        name: 'Owned 2',
        ownerAccountId: 'acct-1',
        settings,
      };
      const byId = new Map((await rooms.list()).map((r) => [r.id, r]));
      assert.deepEqual(byId.get('o'), expected);
      assert.deepEqual(byId.get('g'), room('g', 'guests', 2));
      await rooms.close();
      const again = await db.open();
      try {
        const [o] = (await again.rooms.list()).filter((r) => r.id === 'o');
        assert.deepEqual(o, expected);
      } finally {
        await again.close();
      }
    }));

  test(`${name}: rooms survive reopening`, () =>
    withStores(async (first, db) => {
      await first.rooms.insert(room('a', 'alpha', 1));
      await first.rooms.insert({ ...room('s', 'sealed', 2), e2ee: true });
      await first.close();
      const again = await db.open();
      try {
        assert.deepEqual(await again.rooms.list(), [
          room('a', 'alpha', 1),
          { ...room('s', 'sealed', 2), e2ee: true }, // the E2EE flag is kept
        ]);
      } finally {
        await again.close();
      }
    }));

  // ── Chat history ────────────────────────────────────────────────────────────────────

  const msg = (roomId: string, from: string, text: string, to?: string): NewChatMessage => ({
    roomId,
    from: { peerId: from, nickname: from.toUpperCase() },
    ...(to && { to: { peerId: to, nickname: to.toUpperCase() } }),
    text,
    createdAt: Date.now(),
  });

  test(`${name}: chat pages newest-last by id cursor, per room`, () =>
    withStores(async ({ chat: store }) => {
      const ids: string[] = [];
      for (let i = 0; i < 25; i++) ids.push((await store.append(msg('r1', 'a', `m${i}`))).id);
      await store.append(msg('r2', 'a', 'other room'));
      const first = await store.page('r1', 'x', { limit: 10 });
      assert.deepEqual(
        first.messages.map((m) => m.text),
        Array.from({ length: 10 }, (_, i) => `m${i + 15}`),
      );
      assert.equal(first.hasMore, true);
      const second = await store.page('r1', 'x', { before: first.messages[0]!.id, limit: 10 });
      assert.deepEqual(
        second.messages.map((m) => m.text),
        Array.from({ length: 10 }, (_, i) => `m${i + 5}`),
      );
      const last = await store.page('r1', 'x', { before: second.messages[0]!.id, limit: 10 });
      assert.equal(last.messages.length, 5);
      assert.equal(last.hasMore, false);
      const seqs = [...last.messages, ...second.messages, ...first.messages].map((m) => m.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
      );
      await assert.rejects(
        store.page('r2', 'x', { before: ids[0]!, limit: 10 }),
        /NOT_FOUND|unknown message id/,
      );
    }));

  test(`${name}: private messages are visible only to sender and recipient`, () =>
    withStores(async ({ chat: store }) => {
      await store.append(msg('r', 'a', 'public'));
      await store.append(msg('r', 'a', 'secret for b', 'b'));
      await store.append(msg('r', 'b', 'reply to a', 'a'));
      const texts = async (viewer: string) =>
        (await store.page('r', viewer, { limit: 100 })).messages.map((m) => m.text);
      assert.deepEqual(await texts('a'), ['public', 'secret for b', 'reply to a']);
      assert.deepEqual(await texts('b'), ['public', 'secret for b', 'reply to a']);
      assert.deepEqual(await texts('c'), ['public']);
    }));

  test(`${name}: chat survives reopening; deleteRoom removes only that room; ids are never reused`, () =>
    withStores(async (first, db) => {
      const kept = await first.chat.append(msg('keep', 'a', 'hello'));
      const file = await first.chat.append({
        ...msg('gone', 'a', 'f.png'),
        file: { id: 'f1', name: 'f.png', size: 3, type: 'image/png', url: '/x' },
      });
      await first.close();
      const again = await db.open();
      try {
        const store = again.chat;
        assert.deepEqual((await store.page('keep', 'z', { limit: 10 })).messages, [kept]);
        assert.deepEqual(await store.findFile('gone', 'f1'), file);
        assert.equal(await store.findFile('keep', 'f1'), undefined);
        await store.deleteRoom('gone');
        assert.equal(await store.findFile('gone', 'f1'), undefined);
        assert.deepEqual((await store.page('gone', 'a', { limit: 10 })).messages, []);
        const next = await store.append(msg('gone', 'a', 'again'));
        assert.ok(next.seq > file.seq);
        await store.delete('gone', next.id); // a withdrawn message
        assert.deepEqual((await store.page('gone', 'a', { limit: 10 })).messages, []);
      } finally {
        await again.close();
      }
    }));

  test(`${name}: an idempotency key stores a message once per room and sender`, () =>
    withStores(async (first, db) => {
      const a = await first.chat.appendOnce(msg('r', 'a', 'typed offline'), 'key-00000001');
      assert.equal(a.created, true);
      const again = await first.chat.appendOnce(msg('r', 'a', 'typed offline'), 'key-00000001');
      assert.deepEqual(again, { message: a.message, created: false }, 'the resend: the first one');
      // The same key from another sender, or in another room, is another message.
      const other = await first.chat.appendOnce(msg('r', 'b', 'mine'), 'key-00000001');
      const elsewhere = await first.chat.appendOnce(msg('r2', 'a', 'there'), 'key-00000001');
      assert.equal(other.created && elsewhere.created, true);
      // Concurrent resends: exactly one row.
      const burst = await Promise.all(
        Array.from({ length: 8 }, () => first.chat.appendOnce(msg('r', 'a', 'x'), 'key-burst-1')),
      );
      assert.equal(burst.filter((r) => r.created).length, 1);
      assert.equal(new Set(burst.map((r) => r.message.id)).size, 1);
      const texts = (await first.chat.page('r', 'a', { limit: 100 })).messages.map((m) => m.text);
      assert.deepEqual(texts, ['typed offline', 'mine', 'x']);
      assert.deepEqual(await first.chat.findByKey('r', 'a', 'key-00000001'), a.message);
      assert.equal(await first.chat.findByKey('r', 'c', 'key-00000001'), undefined);
      // A withdrawn message frees its key; keys survive reopening.
      await first.chat.delete('r', burst[0]!.message.id);
      assert.equal((await first.chat.appendOnce(msg('r', 'a', 'x'), 'key-burst-1')).created, true);
      await first.close();
      const reopened = await db.open();
      try {
        const r = await reopened.chat.appendOnce(msg('r', 'a', 'typed offline'), 'key-00000001');
        assert.deepEqual(r, { message: a.message, created: false });
      } finally {
        await reopened.close();
      }
    }));

  chatBatchSuite(name, (body) => withStores((stores) => body(stores)));

  // ── Accounts (the AuthStore contract) ───────────────────────────────────────────────

  const user = (id: string, email: string | null): UserRecord => ({
    id,
    email,
    emailVerified: false,
    name: id,
    passwordHash: null,
    createdAt: 1,
  });

  test(`${name}: users are unique by email; deleting one takes its identities and sessions`, () =>
    withStores(async ({ auth: s }) => {
      await s.createUser(user('u1', 'a@x'));
      await s.createUser(user('u2', null));
      await s.createUser(user('u3', null)); // many users without email
      await assert.rejects(s.createUser(user('u4', 'a@x')), EmailTakenError);
      await s.addIdentity({
        provider: 'p',
        subject: 's1',
        userId: 'u1',
        email: 'a@x',
        createdAt: 1,
      });
      await s.createSession({ tokenHash: 'h1', userId: 'u1', createdAt: 1, expiresAt: 100 });
      await s.updateUser('u1', { emailVerified: true, passwordHash: 'phc', name: 'Ann' });
      assert.deepEqual(await s.userByEmail('a@x'), {
        ...user('u1', 'a@x'),
        emailVerified: true,
        passwordHash: 'phc',
        name: 'Ann',
      });
      assert.equal((await s.identity('p', 's1'))?.userId, 'u1');
      assert.deepEqual(
        (await s.identitiesOf('u1')).map((i) => i.subject),
        ['s1'],
      );
      await s.deleteUser('u1');
      assert.equal(await s.userById('u1'), undefined);
      assert.equal(await s.identity('p', 's1'), undefined);
      assert.equal(await s.session('h1', 0), undefined);
      assert.equal((await s.userById('u2'))?.id, 'u2');
    }));

  test(`${name}: sessions expire, and all but one can be ended`, () =>
    withStores(async ({ auth: s }) => {
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
    }));

  test(`${name}: a login flow is taken once, and not after it expired`, () =>
    withStores(async ({ auth: s }) => {
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
    }));

  test(`${name}: API keys are kept by id, listed oldest first, revoked once, and survive reopening`, () =>
    withStores(async ({ auth: s }, db) => {
      const key = (id: string, createdAt: number) => ({
        id,
        secretHash: `hash-${id}`,
        name: `key ${id}`,
        createdAt,
        revokedAt: null,
      });
      await s.createApiKey(key('k2', 2_000_000_000_002));
      await s.createApiKey(key('k1', 2_000_000_000_001));
      await assert.rejects(s.createApiKey(key('k1', 3))); // ids are unique
      assert.deepEqual(await s.apiKey('k1'), key('k1', 2_000_000_000_001));
      assert.equal(await s.apiKey('nope'), undefined);
      assert.deepEqual(
        (await s.apiKeys()).map((k) => k.id),
        ['k1', 'k2'],
      );
      assert.equal(await s.revokeApiKey('k2', 2_000_000_000_009), true);
      assert.equal(await s.revokeApiKey('k2', 2_000_000_000_010), false); // already revoked
      assert.equal(await s.revokeApiKey('nope', 1), false);
      await s.prune(Number.MAX_SAFE_INTEGER); // keys never expire with sessions
      const reopened = await db.open();
      try {
        assert.equal((await reopened.auth.apiKey('k2'))?.revokedAt, 2_000_000_000_009);
        assert.equal((await reopened.auth.apiKey('k1'))?.revokedAt, null);
      } finally {
        await reopened.close();
      }
    }));
}
