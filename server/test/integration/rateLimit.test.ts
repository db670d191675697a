import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectSignaling } from '../../../test/helpers/signalingClient.ts';
import { startTestServer } from '../../../test/helpers/startServer.ts';
import { rejectCode, sleep } from './bot.ts';

// Own server with tiny limits: per-connection request bucket and room.create per address.

test('per-connection request rate limit: RATE_LIMITED for the flooder only, refills', async () => {
  const s = await startTestServer({
    signaling: { requestsPerSecond: 5, requestBurst: 10, roomCreatesPerMinute: 100 },
  });
  try {
    const flood = await connectSignaling(s.wsUrl);
    const calm = await connectSignaling(s.wsUrl);
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () => flood.request('lobby.subscribe', {})),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const limited = await Promise.all(
      results
        .filter((r) => r.status === 'rejected')
        .map((r) => rejectCode(Promise.reject((r as PromiseRejectedResult).reason as Error))),
    );
    assert.ok(ok >= 10 && ok <= 12, `${ok} answered`);
    assert.ok(limited.length >= 18);
    assert.ok(
      limited.every((c) => c === 'RATE_LIMITED'),
      limited.join(),
    );
    // Other connections are unaffected.
    await calm.request('lobby.subscribe', {});
    // The bucket refills at requestsPerSecond.
    await sleep(500);
    await flood.request('lobby.subscribe', {});
    flood.close();
    calm.close();
  } finally {
    await s.stop();
  }
});

test('room.create is capped per address, over protoo and HTTP alike', async () => {
  const s = await startTestServer({ signaling: { roomCreatesPerMinute: 3 } });
  try {
    const c = await connectSignaling(s.wsUrl);
    await c.request('room.create', { name: 'one' });
    await c.request('room.create', { name: 'two' });
    c.close();
    // A new connection from the same address shares the cap.
    const d = await connectSignaling(s.wsUrl);
    await d.request('room.create', { name: 'three' });
    assert.equal(await rejectCode(d.request('room.create', { name: 'four' })), 'RATE_LIMITED');
    const res = await fetch(`${s.url}/api/rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'five' }),
    });
    assert.equal(res.status, 429);
    assert.equal(((await res.json()) as { error: string }).error, 'RATE_LIMITED');
    assert.equal((await d.request('lobby.subscribe', {})).rooms.length, 3);
    d.close();
  } finally {
    await s.stop();
  }
});

test('chat rate limit survives leave + re-join on the same connection', async () => {
  // Burst 3, refills one message every 10 s: nothing refills during the test.
  const s = await startTestServer({ chat: { ratePerSecond: 0.1, burst: 3 } });
  try {
    const owner = await connectSignaling(s.wsUrl);
    const { room } = await owner.request('room.create', { name: 'Chatty' });
    owner.close();
    const c = await connectSignaling(s.wsUrl);
    await c.request('room.join', { roomId: room.id, nickname: 'talker' });
    for (let i = 0; i < 3; i++) await c.request('chat.send', { text: `m${i}` });
    assert.equal(await rejectCode(c.request('chat.send', { text: 'too many' })), 'RATE_LIMITED');
    // Leaving and joining again (same socket) does not reset the bucket…
    await c.request('room.leave', {});
    await c.request('room.join', { roomId: room.id, nickname: 'talker' });
    assert.equal(await rejectCode(c.request('chat.send', { text: 'again' })), 'RATE_LIMITED');
    const history = await c.request('chat.history', {});
    assert.deepEqual(
      history.messages.map((m) => m.text),
      ['m0', 'm1', 'm2'],
    );
    // …while a new connection has its own.
    c.close();
    const fresh = await connectSignaling(s.wsUrl);
    await fresh.request('room.join', { roomId: room.id, nickname: 'talker' });
    await fresh.request('chat.send', { text: 'new socket' });
    fresh.close();
  } finally {
    await s.stop();
  }
});
