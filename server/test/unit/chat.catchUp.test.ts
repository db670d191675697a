/**
 * The chat's part of a resume through another node (chat/catchUp.ts) on its own: the mark a
 * node gives a member going away (ids of recent deliveries in any order, older ones as a
 * seq, the member's own join page), and the catch-up on the new node (what neither node
 * delivered, once; nothing it got live; no late bus copy after), paging back through a gap
 * longer than a page, and a gap over the limits told as `chat.gap` instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '@tutti/protocol';
import { catchUp, ChatMarks, LiveDeliveries } from '../../src/chat/catchUp.ts';
import type { MemberChannel } from '../../src/rooms/ports.ts';

const msg = (seq: number, roomId = 'r1'): ChatMessage => ({
  id: `m${seq}`,
  seq,
  roomId,
  from: { peerId: 'p0', nickname: 'Ann' },
  text: `message ${seq}`,
  createdAt: 0,
});

test('a mark: recent deliveries by id (any order), older ones settled as a seq', () => {
  let now = 0;
  const marks = new ChatMarks(() => now);
  for (const seq of [5, 7]) marks.delivered(msg(seq));
  now = 500;
  marks.delivered(msg(6)); // Overtaken on the bus by 7: still counted.
  marks.delivered(msg(9, 'r2'));
  assert.deepEqual(marks.mark('r1', 'alice'), { after: 0, seen: ['m5', 'm7', 'm6'] });
  now = 10_400; // 5 and 7 are old now: every message up to 7 reached this node.
  assert.deepEqual(marks.mark('r1', 'alice'), { after: 7, seen: [] });
  now = 20_000;
  assert.deepEqual(marks.mark('r1', 'alice'), { after: 7, seen: [] });
  // Her join page had up to 8: that counts too.
  marks.read('alice', [msg(3), msg(8)]);
  assert.deepEqual(marks.mark('r1', 'alice'), { after: 8, seen: [] });
  marks.forgetMember('alice');
  marks.forgetRoom('r1');
  assert.deepEqual(marks.mark('r1', 'alice'), { after: 0, seen: [] });
});

test('a catch-up sends what neither node delivered, once, and no late copy after', async () => {
  const live = new LiveDeliveries();
  const marks = new ChatMarks();
  const sent: string[] = [];
  const peer = {
    id: 'alice',
    notify: async (_method: string, data: { message: ChatMessage }) => {
      sent.push(data.message.id);
    },
  } as unknown as MemberChannel;
  const page = [2, 3, 4, 5, 6].map((s) => msg(s));
  const n = await catchUp(
    {
      page: async () => {
        // m5 reaches her live on this node while the page is read.
        assert.equal(live.deliver('alice', 'm5'), true);
        return { messages: page, hasMore: false };
      },
      roomOf: () => 'r1',
      present: (m) => m,
      withdrawn: new Set(['m6']),
      marks,
      live,
    },
    peer,
    { after: 2, seen: ['m4'] },
  );
  assert.equal(n, 1);
  assert.deepEqual(sent, ['m3'], 'm2 had (≤ after), m4 seen there, m5 live here, m6 withdrawn');
  assert.equal(live.deliver('alice', 'm3'), false, 'the bus bringing m3 late: not again');
  assert.equal(live.deliver('alice', 'm4'), false, 'nor one the old node delivered');
  assert.equal(live.deliver('alice', 'm7'), true, 'a new one goes through');
  assert.deepEqual(marks.mark('r1', 'alice'), { after: 6, seen: [] }, 'the page counts as read');
  live.forget('alice');
  assert.equal(live.deliver('alice', 'm3'), true);
});

/** A room of `n` messages (seqs 1…n) read as the store does: the newest `limit` before a cursor. */
function history(n: number) {
  const all = Array.from({ length: n }, (_, i) => msg(i + 1));
  const reads: (string | undefined)[] = [];
  const page = async (_room: string, _viewer: string, before?: string) => {
    reads.push(before);
    const end = before === undefined ? all.length : all.findIndex((m) => m.id === before);
    const limit = before === undefined ? 100 : 500; // The latest page, then older ones.
    const start = Math.max(0, end - limit);
    return { messages: all.slice(start, end), hasMore: start > 0 };
  };
  return { page, reads };
}

function recorder() {
  const got: { method: string; id?: string }[] = [];
  const peer = {
    id: 'alice',
    notify: async (method: string, data: { message?: ChatMessage }) => {
      got.push({ method, ...(data.message && { id: data.message.id }) });
    },
  } as unknown as MemberChannel;
  return { peer, got };
}

test('a gap longer than a page: paged back to the mark, each once, oldest first', async () => {
  const live = new LiveDeliveries();
  const marks = new ChatMarks();
  const { page, reads } = history(1300);
  const { peer, got } = recorder();
  const deps = { page, roomOf: () => 'r1', present: (m: ChatMessage) => m, marks, live };
  // She had up to 50 there, and 60 (seen); 1200 arrives live here during the first read.
  const n = await catchUp(
    {
      ...deps,
      page: async (room, viewer, before) => {
        if (before === undefined) live.deliver('alice', 'm1200');
        return page(room, viewer, before);
      },
      withdrawn: new Set(['m70']),
    },
    peer,
    { after: 50, seen: ['m60'] },
  );
  const want = Array.from({ length: 1250 }, (_, i) => `m${i + 51}`).filter(
    (id) => !['m60', 'm70', 'm1200'].includes(id),
  );
  assert.equal(n, want.length);
  assert.deepEqual(
    got.map((g) => g.id),
    want,
  );
  assert.ok(got.every((g) => g.method === 'chat.message'));
  assert.deepEqual(reads, [undefined, 'm1201', 'm701', 'm201'], 'three older pages, then the mark');
  assert.equal(
    live.deliver('alice', 'm51'),
    false,
    'a late bus copy of a caught-up one: not again',
  );
  assert.deepEqual(marks.mark('r1', 'alice'), { after: 1300, seen: [] });
});

test('a gap over the limits: not sent one by one, told as chat.gap', async () => {
  const marks = new ChatMarks();
  const base = { roomOf: () => 'r1', present: (m: ChatMessage) => m, withdrawn: new Set<string>() };
  for (const limits of [
    { messages: 249, bytes: 1024 * 1024 },
    { messages: 2000, bytes: 10_000 },
  ]) {
    const live = new LiveDeliveries();
    const { page } = history(250);
    const { peer, got } = recorder();
    const n = await catchUp({ ...base, page, marks, live, limits }, peer, { after: 0, seen: [] });
    assert.equal(n, 0);
    assert.deepEqual(got, [{ method: 'chat.gap' }], JSON.stringify(limits));
    assert.equal(live.deliver('alice', 'm1'), true, 'nothing counted as sent');
  }
  // Exactly at the limit: all of it.
  const { page } = history(250);
  const { peer, got } = recorder();
  const live = new LiveDeliveries();
  const limits = { messages: 250, bytes: 1024 * 1024 };
  assert.equal(
    await catchUp({ ...base, page, marks, live, limits }, peer, { after: 0, seen: [] }),
    250,
  );
  assert.equal(got.length, 250);
});

test('a read that fails: chat.gap, so the client reads the history itself', async () => {
  const { peer, got } = recorder();
  const deps = {
    page: async () => {
      throw new Error('store down');
    },
    roomOf: () => 'r1',
    present: (m: ChatMessage) => m,
    withdrawn: new Set<string>(),
    marks: new ChatMarks(),
    live: new LiveDeliveries(),
  };
  await assert.rejects(catchUp(deps, peer, { after: 0, seen: [] }), /store down/);
  assert.deepEqual(got, [{ method: 'chat.gap' }]);
});
