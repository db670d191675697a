import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '@tutti/protocol';
import { ChatService } from '../../src/chat/ChatService.ts';
import { LocalChatBus } from '../../src/chat/LocalChatBus.ts';
import { ChatTrace, type TraceRecord } from '../../src/chat/trace.ts';
import type { MemberChannel, RoomDirectory } from '../../src/rooms/ports.ts';
import { createStore } from '../../src/store/createStore.ts';

// chat.traceDir (bench:chat --trace): each stored message leaves its phases, in order on
// one clock, joinable by id; no text is written.

function member(id: string): MemberChannel {
  return {
    id,
    ip: 'test',
    closed: false,
    notify: async () => {},
    notifyPrepared: async () => {},
    request: () => Promise.reject(new Error('not used')),
    close() {},
  };
}

test('a traced chat.send records send, batch, publish and delivery, in phase order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tutti-trace-'));
  const stores = await createStore({ dataDir: join(dir, 'db') });
  const all = [member('ann'), member('ben')];
  const membership = (id: string) => ({ roomId: 'r', nickname: id, role: 'participant' as const });
  const rooms: RoomDirectory = {
    membership,
    requireMembership: membership,
    members: () => all,
    member: (_room, id) => ({ id, nickname: id }),
  };
  const trace = new ChatTrace(join(dir, 'trace'));
  const chat = new ChatService({
    store: stores.chat,
    bus: new LocalChatBus(),
    rooms,
    settings: { ratePerSecond: 50, burst: 50, maxLength: 2000, historyPageSize: 50 },
    trace,
  });
  try {
    const sent: ChatMessage[] = await Promise.all(
      [1, 2, 3].map((n) => chat.send(all[0]!, { text: `secret ${n}`, key: `k-${n}` })),
    );
    // A resend of a stored key is no new message: nothing is traced for it.
    await chat.send(all[0]!, { text: 'secret 1', key: 'k-1' });
    await new Promise((r) => setImmediate(r));
    trace.close();
    const [file] = await readdir(join(dir, 'trace'));
    const text = await readFile(join(dir, 'trace', file!), 'utf8');
    assert.ok(!text.includes('secret'), 'no message text in the trace');
    const records = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TraceRecord);
    for (const m of sent) {
      const of = (k: TraceRecord['k']) => records.filter((r) => r.id === m.id && r.k === k);
      const [send] = of('send') as Extract<TraceRecord, { k: 'send' }>[];
      const [batch] = of('batch') as Extract<TraceRecord, { k: 'batch' }>[];
      const [pub] = of('pub') as Extract<TraceRecord, { k: 'pub' }>[];
      const [bus] = of('bus') as Extract<TraceRecord, { k: 'bus' }>[];
      assert.ok(send && batch && pub && bus, `every phase of ${m.id}`);
      assert.equal(of('send').length, 1);
      assert.ok(send.key?.startsWith('k-'));
      assert.equal(bus.local, 2);
      assert.ok(send.recv <= send.queued && send.queued <= batch.start);
      assert.ok(batch.start <= batch.stored && batch.stored <= bus.t && bus.t <= bus.written);
      // The local bus delivers inside publish, so delivery precedes the publish settling;
      // `written` (a nextTick after delivery) and `pub` (a promise callback) have no order.
      assert.ok(bus.t <= pub.t && pub.t <= send.answered);
    }
  } finally {
    chat.close();
    await stores.close();
    await rm(dir, { recursive: true, force: true });
  }
});
