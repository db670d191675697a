import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TuttiError } from '@tutti/protocol';
import { createStore } from '../../src/store/createStore.ts';
import { Postgres } from '../../src/store/postgres.ts';
import { createTestSchema, TEST_DATABASE_URL } from '../helpers/pgSchema.ts';
import { TcpProxy } from '../helpers/tcpProxy.ts';
import { counting, msg, service } from './store.chatBatch.suite.ts';
import { storeSuite } from './store.suite.ts';

// The one store contract, against the embedded SQLite and a real PostgreSQL (each test in
// a schema of its own: CREATE SCHEMA tutti_test_<random> … DROP SCHEMA … CASCADE).
storeSuite('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tutti-store-'));
  return {
    open: () => createStore({ dataDir: dir }),
    drop: () => rm(dir, { recursive: true, force: true }),
  };
});

storeSuite('PostgreSQL', async () => {
  const schema = await createTestSchema();
  return {
    open: () =>
      createStore({
        databaseUrl: TEST_DATABASE_URL,
        dataDir: '/nonexistent',
        postgres: { schema: schema.name },
      }),
    drop: () => schema.drop(),
  };
});

test('PostgreSQL: the schema is created once and recorded; opening again migrates nothing', async () => {
  const schema = await createTestSchema();
  try {
    // The URL's own search_path (as config's database.url would carry it).
    const opts = { databaseUrl: schema.url, dataDir: '/nonexistent' };
    const [a, b] = await Promise.all([createStore(opts), createStore(opts)]); // nodes starting together
    await a.rooms.insert({
      id: 'r',
      name: 'R',
      nameKey: 'r',
      passwordHash: null,
      capacity: null,
      ownerSecretHash: 'h',
      createdAt: 1,
      emptySince: null,
      ownerAccountId: null,
      settings: { waitingRoom: false, moderatorsUnmute: false, signedInOnly: false },
      e2ee: false,
    });
    await Promise.all([a.close(), b.close()]);
    const c = await createStore(opts);
    assert.equal((await c.rooms.list()).length, 1);
    await c.close();
    const pg = new Postgres({ url: TEST_DATABASE_URL, schema: schema.name });
    const versions = await pg.query<{ component: string; version: number }>(
      'SELECT component, version FROM schema_version ORDER BY component',
    );
    assert.deepEqual(versions, [
      { component: 'auth', version: 2 },
      { component: 'chat', version: 2 },
      { component: 'rooms', version: 3 },
    ]);
    await pg.close();
  } finally {
    await schema.drop();
  }
});

test('PostgreSQL down or frozen: STORE_UNAVAILABLE within the timeouts, and back when it returns', async () => {
  const schema = await createTestSchema();
  const target = new URL(TEST_DATABASE_URL);
  const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await proxy.start();
  const url = new URL(TEST_DATABASE_URL);
  url.port = String(proxy.port);
  const stores = await createStore({
    databaseUrl: url.toString(),
    dataDir: '/nonexistent',
    postgres: { schema: schema.name, connectTimeoutMs: 1000, statementTimeoutMs: 800 },
  });
  const timed = async (what: Promise<unknown>) => {
    const started = Date.now();
    const code = await what.then(
      () => 'ok',
      (err: unknown) => (err instanceof TuttiError ? err.code : String(err)),
    );
    return { code, ms: Date.now() - started };
  };
  const readRooms = () => timed(stores.rooms.list());
  try {
    assert.equal((await readRooms()).code, 'ok');

    await proxy.stop(); // refused, connections cut
    for (const attempt of [
      await readRooms(),
      await timed(stores.chat.page('r', 'p', { limit: 5 })),
    ]) {
      assert.equal(attempt.code, 'STORE_UNAVAILABLE');
      assert.ok(attempt.ms < 2500, `answered in ${attempt.ms} ms`);
    }

    await proxy.start(); // back on the same port: the pool reconnects by itself
    assert.equal((await readRooms()).code, 'ok');

    proxy.freeze(); // connections stay open, nothing answers
    const frozen = await timed(stores.auth.userById('u'));
    assert.equal(frozen.code, 'STORE_UNAVAILABLE');
    assert.ok(frozen.ms < 2500, `answered in ${frozen.ms} ms`);
    await proxy.stop();
    await proxy.start();
    let back = await readRooms();
    for (let i = 0; back.code !== 'ok' && i < 20; i++) back = await readRooms();
    assert.equal(back.code, 'ok');
  } finally {
    await stores.close().catch(() => {});
    await proxy.stop();
    await schema.drop();
  }
});

test('SQLite: a rooms table from before room ownership and E2EE gets its new columns, with defaults', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tutti-store-old-'));
  try {
    const { DatabaseSync } = await import('node:sqlite');
    const old = new DatabaseSync(join(dir, 'tutti.db'));
    old.exec(`CREATE TABLE rooms (id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,
      password_hash TEXT, capacity INTEGER, owner_secret_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL, empty_since INTEGER)`);
    old.exec(`INSERT INTO rooms VALUES ('r', 'R', 'r', NULL, NULL, 'h', 1, NULL)`);
    old.close();
    const stores = await createStore({ dataDir: dir });
    const [room] = await stores.rooms.list();
    assert.equal(room?.ownerAccountId, null);
    assert.equal(room?.e2ee, false);
    assert.deepEqual(room?.settings, {
      waitingRoom: false,
      moderatorsUnmute: false,
      signedInOnly: false,
    });
    await stores.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('PostgreSQL group commit: an outage fails every message of the batch and of the queue, none acknowledged is lost', async () => {
  const schema = await createTestSchema();
  const target = new URL(TEST_DATABASE_URL);
  const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await proxy.start();
  const url = new URL(TEST_DATABASE_URL);
  url.port = String(proxy.port);
  const stores = await createStore({
    databaseUrl: url.toString(),
    dataDir: '/nonexistent',
    postgres: { schema: schema.name, connectTimeoutMs: 1000, statementTimeoutMs: 500 },
  });
  const { store, batches } = counting(stores.chat);
  const { chat, ann, ben } = service(store, { queueWaitMs: 500 });
  const codeOf = (err: unknown) => (err instanceof TuttiError ? err.code : String(err));
  const settle = (p: Promise<unknown>) => p.then(() => 'ok', codeOf);
  try {
    const acked = await chat.send(ann, { text: 'acknowledged' });
    proxy.freeze(); // the database hangs
    const inFlight = ['a1', 'a2', 'a3'].map((text) => settle(chat.send(ann, { text })));
    await new Promise((r) => setTimeout(r, 50));
    const queued = ['q1', 'q2'].map((text) => settle(chat.send(ben, { text })));
    const started = Date.now();
    const codes = await Promise.all([...inFlight, ...queued]);
    assert.deepEqual(codes, Array(5).fill('STORE_UNAVAILABLE'));
    assert.ok(Date.now() - started < 3000, `answered in ${Date.now() - started} ms`);
    assert.deepEqual(batches, [1, 3], 'the three went as one batch; the queued two never ran');
    assert.deepEqual(ben.got, ['acknowledged'], 'nothing of the failed batch was delivered');
    await proxy.stop();
    await proxy.start();
    let after = await settle(chat.send(ann, { text: 'after' }));
    for (let i = 0; after !== 'ok' && i < 20; i++)
      after = await settle(chat.send(ann, { text: 'after' }));
    assert.equal(after, 'ok');
    const history = (await chat.history(ben, {})).messages;
    assert.deepEqual(history[0], acked);
    assert.deepEqual(
      history.map((m) => m.text).filter((t) => t !== 'after'),
      ['acknowledged'],
    );
  } finally {
    chat.close();
    await stores.close().catch(() => {});
    await proxy.stop();
    await schema.drop();
  }
});

test('PostgreSQL group commit: a message the database refuses fails alone; its batch is stored', async () => {
  const schema = await createTestSchema();
  const stores = await createStore({
    databaseUrl: TEST_DATABASE_URL,
    dataDir: '/nonexistent',
    postgres: { schema: schema.name },
  });
  const { store, batches } = counting(stores.chat);
  const refused = 'peer\u0000nul';
  const { chat, ben } = service(store, {}, refused);
  try {
    // PostgreSQL text cannot hold NUL (22021): a private message to this id is refused.
    await assert.rejects(stores.chat.append(msg('r', 'ben', 'hi', refused)));
    batches.length = 0;
    const results = await Promise.allSettled(
      ['one', 'two', 'three', 'four'].map((text, i) =>
        chat.send(ben, { text, ...(i === 1 && { to: refused }) }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.deepEqual(batches, [4, 1, 1, 1, 1], 'the batch failed, then each on its own');
    assert.deepEqual(ben.got, ['one', 'three', 'four']);
    assert.deepEqual(
      (await chat.history(ben, {})).messages.map((m) => m.text),
      ['one', 'three', 'four'],
    );
    const { code } = (results[1] as PromiseRejectedResult).reason as { code?: string };
    assert.equal(code, '22021', 'the database answer, as without batching');
  } finally {
    chat.close();
    await stores.close();
    await schema.drop();
  }
});
