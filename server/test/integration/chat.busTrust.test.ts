import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { errorCodeOf, type ChatMessage } from '@tutti/protocol';
import { RedisChatBus } from '../../src/chat/RedisChatBus.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { createRoom, joinRoom, received, until, type Member } from '../helpers/chatClients.ts';
import { startOwnRedis, type OwnRedis } from '../helpers/redisServer.ts';

// The chat bus over a private redis-server (password set, loopback only): forged and
// malformed publishes are dropped, a node with the cluster secret is trusted, and a frozen
// Redis fails chat.send within redis.commandTimeoutMs instead of hanging it.

const SECRET = 'the cluster secret of this test, shared by its nodes';
// The default cluster.redisPrefix ('tutti:cluster:') + 'chat'.
const CHANNEL = 'tutti:cluster:chat';
const TIMEOUT_MS = 400;

describe('chat bus trust and timeouts (own Redis)', () => {
  let redis: OwnRedis;
  let server: TestServer;
  let raw: Redis;
  let ann: Member;
  let bob: Member;
  let carl: Member;
  let roomId: string;

  before(async () => {
    redis = await startOwnRedis({ password: 'bus-test-password' });
    server = await startTestServer({
      redis: { url: redis.url, commandTimeoutMs: TIMEOUT_MS },
      files: { secret: SECRET },
      chat: { ratePerSecond: 50, burst: 50 },
    });
    raw = new Redis(redis.url);
    ({ roomId } = await createRoom(server, 'Bus trust'));
    ann = await joinRoom(server, roomId, 'Ann');
    bob = await joinRoom(server, roomId, 'Bob');
    carl = await joinRoom(server, roomId, 'Carl');
  });
  after(async () => {
    for (const m of [ann, bob, carl]) m?.client.close();
    raw?.disconnect();
    await server?.stop();
    await redis?.stop();
  });

  const privateFromBob = (id: string): ChatMessage => ({
    id,
    seq: 999_999,
    roomId,
    from: { peerId: bob.id, nickname: 'Bob' },
    to: { peerId: ann.id, nickname: 'Ann' },
    text: 'send me your password',
    createdAt: Date.now(),
  });

  test('forged, malformed and wrongly signed publishes are dropped; the process lives', async () => {
    const forged = privateFromBob('forged-1');
    const payloads = [
      JSON.stringify(forged), // well-formed, unsigned: yesterday it reached Ann
      JSON.stringify({ m: JSON.stringify(forged), s: '0'.repeat(64) }),
      JSON.stringify({ m: JSON.stringify(forged) }),
      '{not json',
      'null',
      '[]',
      JSON.stringify({ m: 7, s: 'zz' }),
      JSON.stringify({ id: 'x', text: 7 }),
    ];
    // Only this cluster's channel is heard: a publish elsewhere (another prefix) reaches no one.
    assert.equal(await raw.publish('tutti:chat', 'another cluster'), 0);
    for (const p of payloads) assert.equal(await raw.publish(CHANNEL, p), 1);
    // Signed, but with another key (a node of another cluster, or a guessed secret).
    const stranger = new RedisChatBus(redis.url, { secret: 'not the cluster secret at all' });
    await stranger.ready();
    await stranger.publish(privateFromBob('forged-2'));
    await stranger.close();
    // Then a real message: once it arrives, everything published before it was handled.
    const { message } = await carl.client.request('chat.send', { text: 'after the junk' });
    await until(() => received(ann.client).some((m) => m.id === message.id), 3000, 'real message');
    assert.deepEqual(
      received(ann.client).map((m) => m.id),
      [message.id],
      'only the real message reached Ann',
    );
  });

  test('a message signed by another node of the cluster is delivered, privately', async () => {
    const node2 = new RedisChatBus(redis.url, { secret: SECRET });
    try {
      await node2.ready();
      const message = privateFromBob('from-node-2');
      await node2.publish(message);
      await until(() => received(ann.client).some((m) => m.id === message.id), 3000, 'at Ann');
      await until(() => received(bob.client).some((m) => m.id === message.id), 3000, 'at Bob');
      await sleep(200);
      assert.ok(!received(carl.client).some((m) => m.id === message.id), 'private to Ann');
    } finally {
      await node2.close();
    }
  });

  test('Redis frozen: chat.send is answered with an error in time; thawed, it works again', async () => {
    redis.freeze();
    try {
      const start = Date.now();
      await assert.rejects(
        ann.client.request('chat.send', { text: 'into the void' }),
        // Stored, but the bus did not take it: withdrawn and answered NOT_DELIVERED.
        (e) => errorCodeOf(e) === 'NOT_DELIVERED',
      );
      const elapsed = Date.now() - start;
      assert.ok(elapsed < TIMEOUT_MS + 1500, `answered after ${elapsed} ms`);
    } finally {
      redis.thaw();
    }
    const { message } = await ann.client.request('chat.send', { text: 'back again' });
    await until(() => received(bob.client).some((m) => m.id === message.id), 3000, 'at Bob');
  });
});
