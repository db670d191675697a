import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteChatStore } from '../../src/store/chatStoreSqlite.ts';
import type { NewChatMessage } from '../../src/store/chatStore.ts';
import { KeyedRateLimiter as RateLimiter } from '../../src/kernel/rateLimit.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function dbPath(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tutti-chat-'));
  dirs.push(d);
  return join(d, 'chat.db');
}

const msg = (roomId: string, from: string, text: string, to?: string): NewChatMessage => ({
  roomId,
  from: { peerId: from, nickname: from.toUpperCase() },
  ...(to && { to: { peerId: to, nickname: to.toUpperCase() } }),
  text,
  createdAt: Date.now(),
});

test('pages newest-last by id cursor, per room', async () => {
  const store = SqliteChatStore.open(await dbPath());
  const ids: string[] = [];
  for (let i = 0; i < 25; i++) ids.push(store.append(msg('r1', 'a', `m${i}`)).id);
  store.append(msg('r2', 'a', 'other room'));
  const first = store.page('r1', 'x', { limit: 10 });
  assert.deepEqual(
    first.messages.map((m) => m.text),
    Array.from({ length: 10 }, (_, i) => `m${i + 15}`),
  );
  assert.equal(first.hasMore, true);
  const second = store.page('r1', 'x', { before: first.messages[0]!.id, limit: 10 });
  assert.deepEqual(
    second.messages.map((m) => m.text),
    Array.from({ length: 10 }, (_, i) => `m${i + 5}`),
  );
  const last = store.page('r1', 'x', { before: second.messages[0]!.id, limit: 10 });
  assert.equal(last.messages.length, 5);
  assert.equal(last.hasMore, false);
  const seqs = [...last.messages, ...second.messages, ...first.messages].map((m) => m.seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
  );
  assert.throws(
    () => store.page('r2', 'x', { before: ids[0]!, limit: 10 }),
    /NOT_FOUND|unknown message id/,
  );
  store.close();
});

test('private messages are visible only to sender and recipient', async () => {
  const store = SqliteChatStore.open(await dbPath());
  store.append(msg('r', 'a', 'public'));
  store.append(msg('r', 'a', 'secret for b', 'b'));
  store.append(msg('r', 'b', 'reply to a', 'a'));
  const texts = (viewer: string) =>
    store.page('r', viewer, { limit: 100 }).messages.map((m) => m.text);
  assert.deepEqual(texts('a'), ['public', 'secret for b', 'reply to a']);
  assert.deepEqual(texts('b'), ['public', 'secret for b', 'reply to a']);
  assert.deepEqual(texts('c'), ['public']);
  store.close();
});

test('survives reopening; deleteRoom removes only that room; ids are never reused', async () => {
  const path = await dbPath();
  let store = SqliteChatStore.open(path);
  const kept = store.append(msg('keep', 'a', 'hello'));
  const file = store.append({
    ...msg('gone', 'a', 'f.png'),
    file: { id: 'f1', name: 'f.png', size: 3, type: 'image/png', url: '/x' },
  });
  store.close();
  store = SqliteChatStore.open(path);
  assert.deepEqual(store.page('keep', 'z', { limit: 10 }).messages, [kept]);
  assert.deepEqual(store.findFile('gone', 'f1'), file);
  assert.equal(store.findFile('keep', 'f1'), undefined);
  store.deleteRoom('gone');
  assert.equal(store.findFile('gone', 'f1'), undefined);
  assert.deepEqual(store.page('gone', 'a', { limit: 10 }).messages, []);
  const next = store.append(msg('gone', 'a', 'again'));
  assert.ok(next.seq > file.seq);
  store.close();
});

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
