/**
 * The chat's part of a resume through another node (chat/catchUp.ts) on its own: the mark a
 * node gives a member going away (ids of recent deliveries in any order, older ones as a
 * seq, the member's own join page), and the catch-up on the new node (what neither node
 * delivered, once; nothing it got live; no late bus copy after).
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
        return { messages: page };
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
