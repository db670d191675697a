import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { createRoom, joinRoom, received, until, type Member } from '../helpers/chatClients.ts';

// 200 signaling-only clients in one room; 5 of them send 10 msg/s each (the default
// per-peer rate) = 50 msg/s for 10 s. Everyone must get all 500 messages once, in order.
const CLIENTS = 200;
const SENDERS = 5;
const RATE = 50;
const SECONDS = 10;
const TOTAL = RATE * SECONDS;

let server: TestServer;
const members: Member[] = [];

before(async () => {
  server = await startTestServer({
    rooms: { maxCapacity: 1000 },
    // 200 clients from one test address: above the per-address socket cap (issue 10, defect 6).
    signaling: { maxConnectionsPerAddress: 1000 },
  });
});
after(async () => {
  for (const m of members) m.client.close();
  await server?.stop();
});

test(
  '200 clients, 50 messages/s for 10 s: every client receives every message once, in order',
  { timeout: 120_000 },
  async () => {
    const { roomId } = await createRoom(server, 'Crowd');
    for (let i = 0; i < CLIENTS; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, CLIENTS - i) }, (_, j) =>
          joinRoom(server, roomId, `bot${i + j}`),
        ),
      );
      members.push(...batch);
    }
    assert.equal(members.length, CLIENTS);
    for (const m of members) m.client.clearNotifications();

    // Paced by wall clock (not setInterval drift): message k goes at start + k/RATE seconds,
    // round-robin over the senders, so each sender stays at RATE/SENDERS per second.
    const sent: Promise<number>[] = [];
    const start = performance.now();
    for (let k = 0; k < TOTAL; k++) {
      const wait = start + (k * 1000) / RATE - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const sender = members[k % SENDERS]!;
      sent.push(
        sender.client.request('chat.send', { text: `msg ${k}` }).then((r) => r.message.seq),
      );
    }
    const seqs = await Promise.all(sent);
    const elapsed = (performance.now() - start) / 1000;
    assert.ok(elapsed < SECONDS + 5, `sending took ${elapsed.toFixed(1)} s`);
    const expected = [...seqs].sort((a, b) => a - b);

    await until(
      () => members.every((m) => received(m.client).length >= TOTAL),
      30_000,
      'every client to receive every message',
    );
    await new Promise((r) => setTimeout(r, 200)); // any duplicate would have arrived by now
    for (const [i, m] of members.entries()) {
      const got = received(m.client).map((msg) => msg.seq);
      assert.equal(got.length, TOTAL, `client ${i} got ${got.length} messages`);
      assert.deepEqual(got, expected, `client ${i}: missing, duplicated or out of order`);
    }
  },
);
