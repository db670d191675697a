import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ChatBus } from '../../src/chat/ChatBus.ts';
import { LocalChatBus } from '../../src/chat/LocalChatBus.ts';
import { RedisChatBus } from '../../src/chat/RedisChatBus.ts';
import type { ChatMessage } from '@tutti/protocol';
import { silentLogger, type Logger } from '../../src/kernel/log.ts';

const REDIS = process.env.TUTTI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The cluster secret every node of a test cluster shares (files.secret). */
const secret = 'test cluster secret, shared';

const message = (seq: number, roomId = 'r'): ChatMessage => ({
  id: `m${seq}`,
  seq,
  roomId,
  from: { peerId: 'p', nickname: 'P' },
  text: `hello ${seq}`,
  createdAt: seq,
});

/** Every node (bus instance) receives every publish once, in publish order. */
async function fanOut(nodes: ChatBus[], publisher: ChatBus, count: number): Promise<void> {
  const got = nodes.map(() => [] as number[]);
  const all = Promise.all(
    nodes.map(
      (bus, i) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`node ${i} got ${got[i]!.length}/${count}`)),
            10_000,
          );
          bus.subscribe((m) => {
            got[i]!.push(m.seq);
            if (got[i]!.length === count) {
              clearTimeout(timer);
              resolve();
            }
          });
        }),
    ),
  );
  for (let s = 1; s <= count; s++) await publisher.publish(message(s));
  await all;
  for (const seqs of got)
    assert.deepEqual(
      seqs,
      Array.from({ length: count }, (_, i) => i + 1),
    );
}

test('LocalChatBus delivers synchronously, in order, until unsubscribed', async () => {
  const bus = new LocalChatBus();
  const seen: string[] = [];
  const off = bus.subscribe((m) => seen.push(m.id));
  await bus.publish(message(1));
  assert.deepEqual(seen, ['m1']);
  await fanOut([bus], bus, 100);
  off();
  await bus.publish(message(2));
  assert.equal(seen.length, 101);
  await bus.close();
});

test('RedisChatBus fans out across nodes through a real Redis, in order', async () => {
  const channel = `tutti:test:${randomUUID()}`;
  const nodes = [0, 1, 2].map(() => new RedisChatBus(REDIS, { channel, secret }));
  try {
    await Promise.all(nodes.map((n) => n.ready()));
    await fanOut(nodes, nodes[0]!, 500);
    const roundTrip = await new Promise<ChatMessage>((resolve) => {
      nodes[2]!.subscribe(resolve);
      void nodes[1]!.publish({ ...message(9, 'room-x'), to: { peerId: 'q', nickname: 'Q' } });
    });
    assert.deepEqual(roundTrip.to, { peerId: 'q', nickname: 'Q' });
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});

test('RedisChatBus drops malformed payloads on its channel and keeps delivering', async () => {
  const channel = `tutti:test:${randomUUID()}`;
  const dropped: unknown[] = [];
  const log: Logger = { ...silentLogger, warn: (o) => void dropped.push(o), child: () => log };
  const node = new RedisChatBus(REDIS, { channel, log, secret });
  const raw = new Redis(REDIS);
  try {
    await node.ready();
    const got = new Promise<ChatMessage>((resolve) => node.subscribe(resolve));
    await raw.publish(channel, 'not json');
    await raw.publish(channel, JSON.stringify({ id: 'x', text: 7 }));
    await node.publish(message(1));
    assert.deepEqual(await got, message(1));
    assert.equal(dropped.length, 2);
  } finally {
    raw.disconnect();
    await node.close();
  }
});

test('RedisChatBus: the PUBLISHes of one tick go out together, in order, on every node', async () => {
  const channel = `tutti:test:${randomUUID()}`;
  const nodes = [0, 1].map(() => new RedisChatBus(REDIS, { channel, secret }));
  try {
    await Promise.all(nodes.map((n) => n.ready()));
    const got = nodes.map(() => [] as number[]);
    const all = Promise.all(
      nodes.map(
        (bus, i) =>
          new Promise<void>((resolve) =>
            bus.subscribe((m) => void (got[i]!.push(m.seq) === 300 && resolve())),
          ),
      ),
    );
    // A batch's publishes start in one tick (ChatService): corked, they leave in one write.
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => nodes[0]!.publish(message(round * 100 + i + 1))),
      );
    }
    await all;
    const inOrder = Array.from({ length: 300 }, (_, i) => i + 1);
    for (const seqs of got) assert.deepEqual(seqs, inOrder);
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});

test('RedisChatBus: a publish with Redis gone fails at once, corked or not', async () => {
  const channel = `tutti:test:${randomUUID()}`;
  for (const coalesceWrites of [true, false]) {
    const node = new RedisChatBus(REDIS, { channel, secret, coalesceWrites });
    await node.ready();
    const got = new Promise<ChatMessage>((resolve) => node.subscribe(resolve));
    await node.publish(message(1));
    assert.deepEqual(await got, message(1));
    await node.close();
    const t0 = Date.now();
    await assert.rejects(node.publish(message(2)), { code: 'UNAVAILABLE' });
    assert.ok(Date.now() - t0 < 500, 'no wait for a closed connection');
  }
});
