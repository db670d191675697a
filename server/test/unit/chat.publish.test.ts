import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '@tutti/protocol';
import { TuttiError } from '@tutti/protocol';
import type { ChatBus } from '../../src/chat/ChatBus.ts';
import { ChatService } from '../../src/chat/ChatService.ts';
import { LocalChatBus } from '../../src/chat/LocalChatBus.ts';
import type { MemberChannel, RoomDirectory } from '../../src/rooms/ports.ts';
import { createStore, type Stores } from '../../src/store/createStore.ts';

// Store-then-publish: the sender's answer says what happened (issue #10, defect 7).

/** The in-process bus, made to fail: it rejects, or holds a message and delivers it late. */
class FailingBus extends LocalChatBus {
  mode: 'ok' | 'reject' | 'late' = 'ok';
  published = 0;
  readonly #late: ChatMessage[] = [];

  override publish(message: ChatMessage): Promise<void> {
    this.published++;
    if (this.mode === 'reject') return Promise.reject(new Error('bus down'));
    if (this.mode === 'late') {
      this.#late.push(message);
      return new Promise(() => {}); // never answers
    }
    return super.publish(message);
  }

  /** Delivers what it held back (as a bus that was only slow would). */
  async flushLate(): Promise<void> {
    for (const m of this.#late.splice(0)) await super.publish(m);
  }
}

/** A member that records the chat messages it is told about. */
function member(id: string): MemberChannel & { got: string[] } {
  const got: string[] = [];
  return {
    id,
    ip: 'test',
    closed: false,
    got,
    async notify(method, data) {
      if (method === 'chat.message') got.push((data as { message: ChatMessage }).message.text);
    },
    async notifyPrepared(p) {
      if (p.method === 'chat.message') got.push((p.data as { message: ChatMessage }).message.text);
    },
    request: () => Promise.reject(new Error('not used')),
    close() {},
  };
}

async function setup(bus: ChatBus): Promise<{
  chat: ChatService;
  stores: Stores;
  ann: ReturnType<typeof member>;
  ben: ReturnType<typeof member>;
  done(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'tutti-publish-'));
  const stores = await createStore({ dataDir: dir });
  const ann = member('ann');
  const ben = member('ben');
  const all = [ann, ben];
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
    store: stores.chat,
    bus,
    rooms,
    settings: {
      ratePerSecond: 100,
      burst: 100,
      maxLength: 2000,
      historyPageSize: 50,
      publishTimeoutMs: 200,
    },
  });
  return {
    chat,
    stores,
    ann,
    ben,
    async done() {
      chat.close();
      await stores.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const codeOf = (err: unknown) => (err instanceof TuttiError ? err.code : String(err));
const texts = async (chat: ChatService, peer: MemberChannel) =>
  (await chat.history(peer, {})).messages.map((m) => m.text);

test('stored and published: the sender gets the message, everyone receives it once', async () => {
  const bus = new FailingBus();
  const s = await setup(bus);
  try {
    const sent = await s.chat.send(s.ann, { text: 'hello' });
    assert.equal(sent.text, 'hello');
    assert.deepEqual(s.ann.got, ['hello']);
    assert.deepEqual(s.ben.got, ['hello']);
    assert.deepEqual(await texts(s.chat, s.ben), ['hello']);
  } finally {
    await s.done();
  }
});

test('the bus rejects: NOT_DELIVERED, and the message is neither delivered nor kept', async () => {
  const bus = new FailingBus();
  const s = await setup(bus);
  try {
    await s.chat.send(s.ann, { text: 'before' });
    bus.mode = 'reject';
    await assert.rejects(
      s.chat.send(s.ann, { text: 'lost' }),
      (e) => codeOf(e) === 'NOT_DELIVERED',
    );
    bus.mode = 'ok';
    await s.chat.send(s.ann, { text: 'after' });
    assert.deepEqual(s.ben.got, ['before', 'after']);
    assert.deepEqual(await texts(s.chat, s.ben), ['before', 'after']);
  } finally {
    await s.done();
  }
});

test('the bus hangs: NOT_DELIVERED within the timeout, and a late delivery is dropped', async () => {
  const bus = new FailingBus();
  const s = await setup(bus);
  try {
    bus.mode = 'late';
    const started = Date.now();
    await assert.rejects(
      s.chat.send(s.ann, { text: 'stuck' }),
      (e) => codeOf(e) === 'NOT_DELIVERED',
    );
    assert.ok(Date.now() - started < 1000, 'answered within the publish timeout');
    await bus.flushLate(); // the bus comes back and hands the message on after all
    bus.mode = 'ok';
    await s.chat.send(s.ann, { text: 'next' });
    assert.deepEqual(s.ann.got, ['next']);
    assert.deepEqual(s.ben.got, ['next'], 'the withdrawn message is not delivered later');
    assert.deepEqual(await texts(s.chat, s.ben), ['next']);
  } finally {
    await s.done();
  }
});

test('the store fails: the sender gets the error, nothing is published', async () => {
  const bus = new FailingBus();
  const s = await setup(bus);
  try {
    await s.stores.close(); // every write now throws
    await assert.rejects(s.chat.send(s.ann, { text: 'nowhere' }));
    assert.equal(bus.published, 0);
    assert.deepEqual(s.ben.got, []);
  } finally {
    await s.done();
  }
});

test('per room, messages are delivered in the order they were stored', async () => {
  const bus = new FailingBus();
  const s = await setup(bus);
  try {
    const sent = await Promise.all(
      Array.from({ length: 30 }, (_, i) => s.chat.send(i % 2 ? s.ann : s.ben, { text: `m${i}` })),
    );
    const bySeq = [...sent].sort((a, b) => a.seq - b.seq).map((m) => m.text);
    assert.deepEqual(s.ben.got, bySeq);
    assert.deepEqual(await texts(s.chat, s.ben), bySeq);
  } finally {
    await s.done();
  }
});
