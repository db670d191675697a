import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { startTestServer } from '../../../test/helpers/startServer.ts';
import { rejectCode, sleep } from './bot.ts';

// Rooms over time, each test on a server of its own: what a restart keeps, and the idle
// clean-up of empty rooms. Rooms over signaling and HTTP are rooms.test.ts.

const clients: SignalingClient[] = [];
function closeClients() {
  for (const c of clients.splice(0)) c.close();
}

describe('persistence and idle cleanup', () => {
  test('rooms survive a restart (metadata and password)', async () => {
    const s = await startTestServer();
    try {
      const c = await connectSignaling(s.wsUrl);
      const { room, ownerSecret } = await c.request('room.create', {
        name: 'Durable',
        password: 'pw',
        capacity: 3,
      });
      await c.request('room.join', { roomId: room.id, nickname: 'x', password: 'pw' });
      const closed = c.nextNotification('room.closed', undefined, 10_000);
      await s.restart();
      assert.deepEqual(await closed, { reason: 'shutdown' });
      const d = await connectSignaling(s.wsUrl);
      clients.push(d);
      const { rooms } = await d.request('lobby.subscribe', {});
      const again = rooms.find((r) => r.id === room.id);
      assert.deepEqual(
        again && {
          name: again.name,
          capacity: again.capacity,
          locked: again.locked,
          peers: again.peers,
        },
        {
          name: 'Durable',
          capacity: 3,
          locked: true,
          peers: 0,
        },
      );
      assert.equal(
        await rejectCode(
          d.request('room.join', { roomId: room.id, nickname: 'y', password: 'no' }),
        ),
        'BAD_PASSWORD',
      );
      await d.request('room.join', { roomId: room.id, nickname: 'y', password: 'pw' });
      assert.equal(
        await rejectCode(d.request('room.create', { name: 'durable' })),
        'ROOM_NAME_TAKEN',
      );
      // The owner secret still works after the restart; a member deleting its own room
      // gets the answer, room.closed, then is disconnected.
      assert.deepEqual(await d.request('room.delete', { roomId: room.id, ownerSecret }), {});
      assert.deepEqual(await d.nextNotification('room.closed'), { reason: 'deleted' });
      await Promise.race([
        d.closedPromise,
        sleep(3000).then(() => assert.fail('socket not closed')),
      ]);
    } finally {
      closeClients();
      await s.stop();
    }
  });

  test('an empty room is deleted after idleTtlSeconds by the scheduled cleanup; an occupied one is kept', async () => {
    const s = await startTestServer({ rooms: { idleTtlSeconds: 1, cleanupIntervalSeconds: 1 } });
    try {
      const c = await connectSignaling(s.wsUrl);
      clients.push(c);
      const { room: empty } = await c.request('room.create', { name: 'Empty' });
      const { room: busy } = await c.request('room.create', { name: 'Busy' });
      await c.request('room.join', { roomId: busy.id, nickname: 'stay' });
      const lobby = await connectSignaling(s.wsUrl);
      clients.push(lobby);
      await lobby.request('lobby.subscribe', {});
      await lobby.nextNotification(
        'lobby.rooms',
        (d) => !d.rooms.some((r) => r.id === empty.id),
        5000,
      );
      await sleep(2200);
      const { rooms } = await lobby.request('lobby.subscribe', {});
      assert.deepEqual(
        rooms.map((r) => r.id),
        [busy.id],
      );
    } finally {
      closeClients();
      await s.stop();
    }
  });
});
