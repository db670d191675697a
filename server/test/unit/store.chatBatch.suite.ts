import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '@tutti/protocol';
import { ChatService } from '../../src/chat/ChatService.ts';
import { LocalChatBus } from '../../src/chat/LocalChatBus.ts';
import type { MemberChannel, RoomDirectory } from '../../src/rooms/ports.ts';
import type { AppendRequest, ChatStore, NewChatMessage } from '../../src/store/chatStore.ts';
import type { Stores } from '../../src/store/createStore.ts';

type WithStores = (body: (s: Stores) => Promise<void>) => Promise<void>;

export const msg = (roomId: string, from: string, text: string, to?: string): NewChatMessage => ({
  roomId,
  from: { peerId: from, nickname: from.toUpperCase() },
  ...(to && { to: { peerId: to, nickname: to.toUpperCase() } }),
  text,
  createdAt: Date.now(),
});

/** The settled answers' values; fails on any rejected entry. */
function values<T>(results: PromiseSettledResult<T>[]): T[] {
  return results.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
}

/** The real store, with each appendBatch call's size written down (nothing else changes). */
export function counting(store: ChatStore): { store: ChatStore; batches: number[] } {
  const batches: number[] = [];
  const wrapped = new Proxy(store, {
    get(target, prop) {
      if (prop === 'appendBatch') {
        return (requests: readonly AppendRequest[]) => {
          batches.push(requests.length);
          return target.appendBatch(requests);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return { store: wrapped, batches };
}

/** A member that writes down the chat texts it is told about. */
function member(id: string): MemberChannel & { got: string[] } {
  const got: string[] = [];
  const note = (data: unknown) => got.push((data as { message: ChatMessage }).message.text);
  return {
    id,
    ip: 'test',
    closed: false,
    got,
    async notify(method, data) {
      if (method === 'chat.message') note(data);
    },
    async notifyPrepared(p) {
      if (p.method === 'chat.message') note(p.data);
    },
    request: () => Promise.reject(new Error('not used')),
    close() {},
  };
}

/** A ChatService on the real store, two members in room `r`. */
export function service(
  store: ChatStore,
  settings: { queueWaitMs?: number } = {},
  /** A third member's id (a test may give one the database refuses). */
  other = 'cat',
) {
  const ann = member('ann');
  const ben = member('ben');
  const all = [ann, ben, member(other)];
  const membership = (id: string) =>
    all.some((m) => m.id === id)
      ? { roomId: 'r', nickname: id, role: 'participant' as const }
      : undefined;
  const rooms: RoomDirectory = {
    membership,
    requireMembership: (id) => membership(id)!,
    members: () => all,
    member: (_room, id) => (membership(id) ? { id, nickname: id } : undefined),
  };
  const chat = new ChatService({
    store,
    bus: new LocalChatBus(),
    rooms,
    settings: {
      ratePerSecond: 1000,
      burst: 1000,
      maxLength: 2000,
      historyPageSize: 100,
      ...settings,
    },
  });
  return { chat, ann, ben };
}

/**
 * Group commit (issue 9), part of the one store contract: a batch of appends is written in
 * one round trip and one commit, in order, each message answered as if alone; the chat
 * service batches a room's appends that queue up while a write is in flight.
 */
export function chatBatchSuite(name: string, withStores: WithStores): void {
  test(`${name}: a batch of appends is stored in request order, each answered as if alone`, () =>
    withStores(async ({ chat: store }) => {
      const before = await store.append(msg('r', 'a', 'before'));
      const requests: AppendRequest[] = Array.from({ length: 30 }, (_, i) => ({
        message: msg('r', i % 3 ? 'a' : 'b', `m${i}`, i % 5 === 0 ? 'c' : undefined),
        ...(i % 2 === 0 && { key: `key-batch-${i}` }),
      }));
      const results = values(await store.appendBatch(requests));
      assert.equal(results.length, 30);
      assert.ok(results.every((r) => r.created));
      assert.deepEqual(
        results.map((r) => r.message.text),
        requests.map((r) => r.message.text),
      );
      const seqs = [before.seq, ...results.map((r) => r.message.seq)];
      assert.ok(
        seqs.every((s, i) => i === 0 || s > seqs[i - 1]!),
        `seqs ascend: ${seqs.join()}`,
      );
      assert.equal(new Set(results.map((r) => r.message.id)).size, 30);
      const page = await store.page('r', 'c', { limit: 100 });
      assert.deepEqual(page.messages, [before, ...results.map((r) => r.message)]);
      assert.deepEqual((await store.page('r', 'x', { limit: 100 })).messages.length, 1 + 30 - 6);
      assert.deepEqual(await store.findByKey('r', 'b', 'key-batch-0'), results[0]!.message);
      assert.deepEqual(await store.appendBatch([]), []);
    }));

  test(`${name}: duplicate idempotency keys collapse, within a batch and against earlier ones`, () =>
    withStores(async ({ chat: store }) => {
      const earlier = await store.appendOnce(msg('r', 'a', 'typed offline'), 'key-dup-1');
      const results = values(
        await store.appendBatch([
          { message: msg('r', 'a', 'typed offline'), key: 'key-dup-1' }, // resend of earlier
          { message: msg('r', 'a', 'new'), key: 'key-dup-2' },
          { message: msg('r', 'a', 'new'), key: 'key-dup-2' }, // same batch, same key
          { message: msg('r', 'b', 'mine'), key: 'key-dup-2' }, // another sender's key
          { message: msg('r2', 'a', 'there'), key: 'key-dup-2' }, // another room
          { message: msg('r', 'a', 'plain') },
        ]),
      );
      assert.deepEqual(results[0], { message: earlier.message, created: false });
      assert.equal(results[1]!.created, true);
      assert.deepEqual(results[2], { message: results[1]!.message, created: false });
      assert.equal(results[3]!.created && results[4]!.created && results[5]!.created, true);
      // Batches racing with the same key (two nodes, two connections): one row.
      const racing = (
        await Promise.all(
          Array.from({ length: 6 }, () =>
            store.appendBatch([
              { message: msg('r', 'a', 'x'), key: 'key-dup-3' },
              { message: msg('r', 'a', 'x'), key: 'key-dup-3' },
            ]),
          ),
        )
      ).flatMap(values);
      assert.equal(racing.filter((r) => r.created).length, 1);
      assert.equal(new Set(racing.map((r) => r.message.id)).size, 1);
      const texts = (await store.page('r', 'a', { limit: 100 })).messages.map((m) => m.text);
      assert.deepEqual(texts, ['typed offline', 'new', 'mine', 'plain', 'x']);
    }));

  test(`${name}: a failing batch keeps none of its messages and loses none stored before`, () =>
    withStores(async ({ chat: store }) => {
      const kept = await store.append(msg('r', 'a', 'acknowledged'));
      const bad = { ...msg('r', 'a', 'bad'), roomId: null } as unknown as NewChatMessage;
      await assert.rejects(
        store.appendBatch([
          { message: msg('r', 'a', 'good 1') },
          { message: bad },
          { message: msg('r', 'a', 'good 2'), key: 'key-fail-1' },
        ]),
      );
      assert.deepEqual((await store.page('r', 'a', { limit: 10 })).messages, [kept]);
      assert.equal(await store.findByKey('r', 'a', 'key-fail-1'), undefined, 'key not taken');
      const next = values(
        await store.appendBatch([{ message: msg('r', 'a', 'good 2'), key: 'key-fail-1' }]),
      );
      assert.equal(next[0]!.created, true);
      assert.ok(next[0]!.message.seq > kept.seq);
    }));

  test(`${name}: chat service: appends queued during a write go as one batch, in order`, () =>
    withStores(async ({ chat: real }) => {
      const { store, batches } = counting(real);
      const { chat, ann, ben } = service(store);
      try {
        // One message alone (the room is idle: it is written at once) …
        const first = chat.send(ann, { text: 'm0' });
        await Promise.resolve();
        await Promise.resolve();
        // … and 40 more while it is in flight, from both members.
        const rest = Array.from({ length: 40 }, (_, i) =>
          chat.send(i % 2 ? ann : ben, { text: `m${i + 1}` }),
        );
        const sent = await Promise.all([first, ...rest]);
        const texts = Array.from({ length: 41 }, (_, i) => `m${i}`);
        assert.deepEqual(
          sent.map((m) => m.text),
          texts,
        );
        assert.deepEqual(ben.got, texts, 'delivered once each, in send order');
        assert.deepEqual(ann.got, texts);
        const seqs = sent.map((m) => m.seq);
        assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!));
        assert.deepEqual(
          (await chat.history(ben, {})).messages.map((m) => m.text),
          texts,
        );
        assert.ok(batches.length < 10, `41 sends in ${batches.length} writes: ${batches.join()}`);
        assert.ok(Math.max(...batches) > 1, 'appends were batched');
        // Concurrent resends (the same key twice in one batch): stored and delivered once.
        const keyed = await Promise.all(
          ['k1', 'k2', 'k1', 'k2', 'k1'].map((k) =>
            chat.send(ann, { text: `keyed ${k}`, key: `key-svc-${k}` }),
          ),
        );
        assert.deepEqual(
          keyed.map((m) => m.id),
          [0, 1, 0, 1, 0].map((i) => keyed[i]!.id),
        );
        assert.deepEqual(ben.got.slice(41), ['keyed k1', 'keyed k2']);
        const again = await chat.send(ann, { text: 'keyed k1', key: 'key-svc-k1' });
        assert.equal(again.id, keyed[0]!.id, 'a later resend answers the stored message');
        assert.equal(ben.got.length, 43);
      } finally {
        chat.close();
      }
    }));

  test(`${name}: chat service: a history read between batches sees exactly what was sent before it`, () =>
    withStores(async ({ chat: store }) => {
      const { chat, ann, ben } = service(store);
      try {
        const before = Array.from({ length: 5 }, (_, i) => chat.send(ann, { text: `b${i}` }));
        const page = chat.historyOnJoin(ben);
        const after = Array.from({ length: 5 }, (_, i) => chat.send(ann, { text: `a${i}` }));
        await Promise.all([...before, ...after]);
        const joined = await page;
        // b* were stored before the read (in the page, or live to ben meanwhile); a* after.
        const seen = new Set([...joined.map((m) => m.text), ...ben.got]);
        for (let i = 0; i < 5; i++) assert.ok(seen.has(`b${i}`));
        assert.deepEqual(
          joined.filter((m) => m.text.startsWith('a')),
          [],
        );
      } finally {
        chat.close();
      }
    }));
}
