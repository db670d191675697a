import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '@tutti/protocol';
import { TuttiError } from '@tutti/protocol';
import { ChatService } from '../../src/chat/ChatService.ts';
import { LocalChatBus } from '../../src/chat/LocalChatBus.ts';
import type { MemberChannel, RoomDirectory } from '../../src/rooms/ports.ts';
import type { ChatStore } from '../../src/store/chatStore.ts';
import { createStore } from '../../src/store/createStore.ts';

// chat.send idempotency keys without a look-up before every keyed send: the append's batch
// answers a key stored before (one round trip, not two); the key is looked up only when the
// send is refused before the store (a resend hitting the rate limit gets its earlier answer).

function member(id: string): MemberChannel & { got: string[] } {
  const got: string[] = [];
  const take = (data: unknown) => got.push((data as { message: ChatMessage }).message.text);
  return {
    id,
    ip: 'test',
    closed: false,
    got,
    async notify(method, data) {
      if (method === 'chat.message') take(data);
    },
    async notifyPrepared(p) {
      if (p.method === 'chat.message') take(p.data);
    },
    request: () => Promise.reject(new Error('not used')),
    close() {},
  };
}

async function setup(limit: { ratePerSecond: number; burst: number }) {
  const dir = await mkdtemp(join(tmpdir(), 'tutti-keys-'));
  const stores = await createStore({ dataDir: dir });
  // The real SQLite store, its findByKey counted.
  let lookups = 0;
  const real = stores.chat;
  const store: ChatStore = {
    append: (m) => real.append(m),
    appendOnce: (m, key) => real.appendOnce(m, key),
    appendBatch: (requests) => real.appendBatch(requests),
    findByKey: (...args) => {
      lookups++;
      return real.findByKey(...args);
    },
    page: (...args) => real.page(...args),
    findFile: (...args) => real.findFile(...args),
    delete: (...args) => real.delete(...args),
    deleteRoom: (roomId) => real.deleteRoom(roomId),
    close: () => real.close(),
  };
  const ann = member('ann');
  const ben = member('ben');
  const all = [ann, ben];
  const membership = (id: string) => ({ roomId: 'r', nickname: id, role: 'participant' as const });
  const rooms: RoomDirectory = {
    membership,
    requireMembership: membership,
    members: () => all,
    member: (_room, id) => ({ id, nickname: id }),
  };
  const bus = new LocalChatBus();
  let published = 0;
  const publish = bus.publish.bind(bus);
  bus.publish = (m) => {
    published++;
    return publish(m);
  };
  const chat = new ChatService({
    store,
    bus,
    rooms,
    settings: { ...limit, maxLength: 2000, historyPageSize: 50 },
  });
  return {
    chat,
    ann,
    ben,
    lookups: () => lookups,
    published: () => published,
    async done() {
      chat.close();
      await stores.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const codeOf = (err: unknown) => (err instanceof TuttiError ? err.code : String(err));

test('a keyed send costs no look-up; its resend answers the stored message, sends nothing, costs nothing', async () => {
  const s = await setup({ ratePerSecond: 0.001, burst: 2 });
  try {
    const first = await s.chat.send(s.ann, { text: 'once', key: 'outbox-key-0001' });
    assert.equal(s.lookups(), 0, 'no findByKey before a keyed send');
    const again = await s.chat.send(s.ann, { text: 'once', key: 'outbox-key-0001' });
    assert.equal(again.id, first.id);
    assert.equal(again.seq, first.seq);
    assert.equal(s.published(), 1, 'the resend is not published');
    assert.deepEqual(s.ben.got, ['once']);
    // The resend gave its token back: a burst of 2 still has room for one more message.
    await s.chat.send(s.ann, { text: 'second' });
    await assert.rejects(
      s.chat.send(s.ann, { text: 'third' }),
      (e) => codeOf(e) === 'RATE_LIMITED',
    );
    assert.deepEqual(s.ben.got, ['once', 'second']);
  } finally {
    await s.done();
  }
});

test('a resend refused by the rate limit is answered with the stored message', async () => {
  const s = await setup({ ratePerSecond: 0.001, burst: 1 });
  try {
    const first = await s.chat.send(s.ann, { text: 'kept', key: 'outbox-key-0002' });
    const again = await s.chat.send(s.ann, { text: 'kept', key: 'outbox-key-0002' });
    assert.equal(again.id, first.id);
    assert.equal(s.lookups(), 1, 'looked up only once refused');
    // A new key over the limit is refused as before.
    await assert.rejects(
      s.chat.send(s.ann, { text: 'new', key: 'outbox-key-0003' }),
      (e) => codeOf(e) === 'RATE_LIMITED',
    );
    assert.equal(s.published(), 1);
    assert.deepEqual(s.ben.got, ['kept']);
  } finally {
    await s.done();
  }
});
