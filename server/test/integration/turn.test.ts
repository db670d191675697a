/**
 * The room.join answer carries the ICE servers from config: static entries as they are, then
 * the TURN URLs with credentials minted for that peer (coturn's use-auth-secret scheme), and
 * the transport policy. Each join (a rejoin too) gets its own, fresh credentials.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';

const SECRET = 'integration-turn-secret';

describe('ICE servers in the join answer', () => {
  let configured: TestServer;
  let plain: TestServer;
  const clients: SignalingClient[] = [];
  const connect = async (s: TestServer): Promise<SignalingClient> => {
    const c = await connectSignaling(s.wsUrl);
    clients.push(c);
    return c;
  };

  before(async () => {
    configured = await startTestServer({
      media: {
        iceServers: [{ urls: 'stun:stun.example.org:3478' }],
        iceTransportPolicy: 'relay',
      },
      turn: {
        urls: ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'],
        secret: SECRET,
        ttlSeconds: 120,
      },
    });
    plain = await startTestServer();
  });
  after(async () => {
    for (const c of clients) c.close();
    await configured?.stop();
    await plain?.stop();
  });

  test('TURN credentials for the joining peer, HMAC of its username, expiring after ttlSeconds', async () => {
    const owner = await connect(configured);
    const { room } = await owner.request('room.create', { name: 'Relay' });
    const a = await connect(configured);
    const before = Math.floor(Date.now() / 1000);
    const joined = await a.request('room.join', { roomId: room.id, nickname: 'Alice' });
    assert.equal(joined.iceTransportPolicy, 'relay');
    assert.equal(joined.iceServers.length, 2);
    assert.deepEqual(joined.iceServers[0], { urls: ['stun:stun.example.org:3478'] });
    const turn = joined.iceServers[1]!;
    assert.deepEqual(turn.urls, [
      'turn:127.0.0.1:3478?transport=udp',
      'turn:127.0.0.1:3478?transport=tcp',
    ]);
    const [expiry, peer] = turn.username!.split(':');
    assert.equal(peer, joined.self.id);
    const ttl = Number(expiry) - before;
    assert.ok(ttl >= 119 && ttl <= 121, `expires in ${ttl} s`);
    assert.equal(
      turn.credential,
      createHmac('sha1', SECRET).update(turn.username!).digest('base64'),
    );

    // Joining again (after a leave, or a reconnect) mints credentials again.
    await a.request('room.leave', {});
    const again = await a.request('room.join', { roomId: room.id, nickname: 'Alice' });
    assert.match(again.iceServers[1]!.username!, new RegExp(`^\\d+:${again.self.id}$`));
  });

  test('nothing configured: no ICE servers, policy all', async () => {
    const owner = await connect(plain);
    const { room } = await owner.request('room.create', { name: 'Direct' });
    const joined = await owner.request('room.join', { roomId: room.id, nickname: 'Bob' });
    assert.deepEqual(joined.iceServers, []);
    assert.equal(joined.iceTransportPolicy, 'all');
  });
});
