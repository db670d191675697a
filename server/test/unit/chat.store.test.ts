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

test('SQLite chat store: a database made before idempotency keys gains them, rows kept', async () => {
  const { DatabaseSync } = await import('node:sqlite');
  const { SqliteChatStore } = await import('../../src/store/chatStoreSqlite.ts');
  const db = new DatabaseSync(':memory:');
  // The table as it was before keys (no client_key column), with one message in it.
  db.exec(`CREATE TABLE chat_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, room_id TEXT NOT NULL,
    from_peer TEXT NOT NULL, to_peer TEXT, file_id TEXT, body TEXT NOT NULL)`);
  const old = { roomId: 'r', from: { peerId: 'a', nickname: 'A' }, text: 'old', createdAt: 1 };
  db.prepare('INSERT INTO chat_messages (id, room_id, from_peer, body) VALUES (?, ?, ?, ?)').run(
    'm-old',
    'r',
    'a',
    JSON.stringify(old),
  );
  const store = new SqliteChatStore(db);
  const typed = { ...old, text: 'new', createdAt: 2 };
  const first = await store.appendOnce(typed, 'key-upgrade-1');
  const again = await store.appendOnce(typed, 'key-upgrade-1');
  assert.equal(again.created, false);
  assert.equal(again.message.id, first.message.id);
  const page = await store.page('r', 'a', { limit: 10 });
  assert.deepEqual(
    page.messages.map((m) => m.text),
    ['old', 'new'],
  );
  new SqliteChatStore(db); // Opening it again (the column is there now) changes nothing.
  db.close();
});
