import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { rejectCode, sleep } from './bot.ts';

const clients: SignalingClient[] = [];
async function connect(s: TestServer): Promise<SignalingClient> {
  const c = await connectSignaling(s.wsUrl);
  clients.push(c);
  return c;
}
function closeClients() {
  for (const c of clients.splice(0)) c.close();
}

describe('rooms over signaling (real worker)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    closeClients();
    await s.stop();
  });

  test('create, join, leave: notifications, peer list and counts', async () => {
    const owner = await connect(s);
    const { room, ownerSecret } = await owner.request('room.create', { name: '  Team sync  ' });
    assert.equal(room.name, 'Team sync');
    assert.equal(room.peers, 0);
    assert.ok(ownerSecret.length > 20);

    const a = await connect(s);
    const ja = await a.request('room.join', { roomId: room.id, nickname: ' Alice ' });
    assert.equal(ja.self.nickname, 'Alice');
    assert.deepEqual(ja.peers, []);
    assert.equal(ja.room.peers, 1);
    assert.deepEqual(ja.history, []);
    assert.ok(ja.routerRtpCapabilities.codecs?.some((c) => c.mimeType === 'audio/opus'));
    assert.deepEqual(
      { mic: ja.self.mic, camera: ja.self.camera, screen: ja.self.screen },
      { mic: 'none', camera: 'none', screen: false },
    );

    const b = await connect(s);
    const jb = await b.request('room.join', { roomId: room.id, nickname: 'Bob' });
    assert.deepEqual(
      jb.peers.map((p) => p.nickname),
      ['Alice'],
    );
    assert.equal(jb.room.peers, 2);
    const joined = await a.nextNotification('room.peerJoined');
    assert.equal(joined.peer.nickname, 'Bob');
    assert.equal(joined.peer.id, jb.self.id);

    assert.equal(
      await rejectCode(a.request('room.join', { roomId: room.id, nickname: 'again' })),
      'ALREADY_JOINED',
    );

    await b.request('room.leave', {});
    const left = await a.nextNotification('room.peerLeft');
    assert.deepEqual(left, { peerId: jb.self.id, nickname: 'Bob' });
    const list = await owner.request('lobby.subscribe', {});
    assert.equal(list.rooms.find((r) => r.id === room.id)?.peers, 1);

    // Disconnecting counts as leaving.
    a.close();
    await sleep(200);
    const list2 = await owner.request('lobby.subscribe', {});
    assert.equal(list2.rooms.find((r) => r.id === room.id)?.peers, 0);
  });

  test('join errors: unknown room, wrong password, invalid data', async () => {
    const c = await connect(s);
    assert.equal(
      await rejectCode(c.request('room.join', { roomId: 'nope', nickname: 'x' })),
      'ROOM_NOT_FOUND',
    );
    const { room } = await c.request('room.create', { name: 'Locked', password: 'open sesame' });
    assert.equal(room.locked, true);
    assert.equal(
      await rejectCode(c.request('room.join', { roomId: room.id, nickname: 'x' })),
      'BAD_PASSWORD',
    );
    assert.equal(
      await rejectCode(
        c.request('room.join', { roomId: room.id, nickname: 'x', password: 'wrong' }),
      ),
      'BAD_PASSWORD',
    );
    const ok = await c.request('room.join', {
      roomId: room.id,
      nickname: 'x',
      password: 'open sesame',
    });
    assert.equal(ok.room.locked, true);
    const d = await connect(s);
    assert.equal(
      await rejectCode(d.request('room.join', { roomId: room.id, nickname: '' })),
      'INVALID_REQUEST',
    );
    assert.equal(
      await rejectCode(d.request('room.join', { roomId: room.id, nickname: 'x'.repeat(33) })),
      'INVALID_REQUEST',
    );
    assert.equal(
      await rejectCode(d.request('room.create', { name: 'x'.repeat(65) })),
      'INVALID_REQUEST',
    );
    assert.equal(await rejectCode(d.request('room.create', { name: '   ' })), 'INVALID_REQUEST');
    assert.equal(
      await rejectCode(d.request('media.createTransport', { direction: 'send' })),
      'NOT_JOINED',
    );
  });

  test('duplicate names are refused case-insensitively', async () => {
    const c = await connect(s);
    await c.request('room.create', { name: 'Design Review' });
    assert.equal(
      await rejectCode(c.request('room.create', { name: 'design review ' })),
      'ROOM_NAME_TAKEN',
    );
  });

  test('capacity 2 refuses the third with ROOM_FULL', async () => {
    const c = await connect(s);
    const { room } = await c.request('room.create', { name: 'Pair', capacity: 2 });
    await (await connect(s)).request('room.join', { roomId: room.id, nickname: 'one' });
    await (await connect(s)).request('room.join', { roomId: room.id, nickname: 'two' });
    const third = await connect(s);
    assert.equal(
      await rejectCode(third.request('room.join', { roomId: room.id, nickname: 'three' })),
      'ROOM_FULL',
    );
  });

  test('duplicate nickname gets random digits appended', async () => {
    const c = await connect(s);
    const { room } = await c.request('room.create', { name: 'Dups' });
    const a = await (await connect(s)).request('room.join', { roomId: room.id, nickname: 'Sam' });
    const b = await (await connect(s)).request('room.join', { roomId: room.id, nickname: 'sam' });
    assert.equal(a.self.nickname, 'Sam');
    assert.match(b.self.nickname, /^sam\d{2,}$/);
    assert.deepEqual(
      b.peers.map((p) => p.nickname),
      ['Sam'],
    );
  });

  test('lobby subscriber sees create, count changes, rename and delete', async () => {
    const lobby = await connect(s);
    const initial = await lobby.request('lobby.subscribe', {});
    assert.ok(Array.isArray(initial.rooms));
    const owner = await connect(s);
    const { room, ownerSecret } = await owner.request('room.create', {
      name: 'Lobby watch',
      capacity: 5,
    });
    const created = await lobby.nextNotification('lobby.rooms', (d) =>
      d.rooms.some((r) => r.id === room.id),
    );
    assert.deepEqual(
      created.rooms.find((r) => r.id === room.id),
      { ...room },
    );
    const member = await connect(s);
    await member.request('room.join', { roomId: room.id, nickname: 'm' });
    await lobby.nextNotification(
      'lobby.rooms',
      (d) => d.rooms.find((r) => r.id === room.id)?.peers === 1,
    );
    await owner.request('room.update', {
      roomId: room.id,
      ownerSecret,
      password: 'pw',
      name: 'Lobby watch 2',
    });
    const upd = await lobby.nextNotification(
      'lobby.rooms',
      (d) => d.rooms.find((r) => r.id === room.id)?.locked === true,
    );
    assert.equal(upd.rooms.find((r) => r.id === room.id)?.name, 'Lobby watch 2');
    const roomUpdated = await member.nextNotification('room.updated');
    assert.equal(roomUpdated.room.locked, true);
    await owner.request('room.delete', { roomId: room.id, ownerSecret });
    await lobby.nextNotification('lobby.rooms', (d) => !d.rooms.some((r) => r.id === room.id));
  });

  test('owner deletes: members get room.closed and are disconnected; others cannot', async () => {
    const owner = await connect(s);
    const { room, ownerSecret } = await owner.request('room.create', { name: 'Doomed' });
    const m1 = await connect(s);
    const m2 = await connect(s);
    await m1.request('room.join', { roomId: room.id, nickname: 'm1' });
    await m2.request('room.join', { roomId: room.id, nickname: 'm2' });
    assert.equal(
      await rejectCode(m1.request('room.delete', { roomId: room.id, ownerSecret: 'guess' })),
      'FORBIDDEN',
    );
    await owner.request('room.delete', { roomId: room.id, ownerSecret });
    for (const m of [m1, m2]) {
      assert.deepEqual(await m.nextNotification('room.closed'), { reason: 'deleted' });
      await Promise.race([
        m.closedPromise,
        sleep(3000).then(() => assert.fail('socket not closed')),
      ]);
      assert.equal(m.closed, true);
    }
    assert.equal(
      await rejectCode(owner.request('room.join', { roomId: room.id, nickname: 'x' })),
      'ROOM_NOT_FOUND',
    );
  });

  test('HTTP: POST/GET/PATCH/DELETE /api/rooms with validation and owner header', async () => {
    const post = (body: unknown) =>
      fetch(`${s.url}/api/rooms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const bad = await post({ name: '' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: string }).error, 'INVALID_REQUEST');
    assert.equal((await post({ name: 'ok', capacity: 1 })).status, 400);
    assert.equal((await post({ name: 'ok', extra: 1 })).status, 400);
    const res = await post({ name: 'Http room', password: 'pw', capacity: 10 });
    assert.equal(res.status, 201);
    const { room, ownerSecret } = (await res.json()) as {
      room: { id: string; locked: boolean };
      ownerSecret: string;
    };
    assert.equal(room.locked, true);
    assert.equal((await post({ name: 'HTTP ROOM' })).status, 409);

    const list = (await (await fetch(`${s.url}/api/rooms`)).json()) as { rooms: { id: string }[] };
    assert.ok(list.rooms.some((r) => r.id === room.id));
    const text = JSON.stringify(list);
    assert.ok(!text.includes(ownerSecret) && !text.includes('scrypt'));

    const patch = (headers: Record<string, string>, body: unknown) =>
      fetch(`${s.url}/api/rooms/${room.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    assert.equal((await patch({}, { name: 'x' })).status, 403);
    assert.equal((await patch({ 'x-owner-secret': 'wrong' }, { name: 'x' })).status, 403);
    const p = await patch(
      { 'x-owner-secret': ownerSecret },
      { password: null, capacity: null, name: 'Http room 2' },
    );
    assert.equal(p.status, 200);
    assert.deepEqual(
      ((await p.json()) as { room: { locked: boolean; capacity: number | null; name: string } })
        .room,
      {
        ...((await (await fetch(`${s.url}/api/rooms/${room.id}`)).json()) as { room: object }).room,
      },
    );
    const member = await connect(s);
    await member.request('room.join', { roomId: room.id, nickname: 'web' }); // No password now.

    assert.equal((await fetch(`${s.url}/api/rooms/${room.id}`, { method: 'DELETE' })).status, 403);
    const del = await fetch(`${s.url}/api/rooms/${room.id}`, {
      method: 'DELETE',
      headers: { 'x-owner-secret': ownerSecret },
    });
    assert.equal(del.status, 204);
    assert.deepEqual(await member.nextNotification('room.closed'), { reason: 'deleted' });
    assert.equal((await fetch(`${s.url}/api/rooms/${room.id}`)).status, 404);
  });

  test('health lists the live worker; unknown API routes are JSON 404', async () => {
    const h = (await (await fetch(`${s.url}/api/health/detail`)).json()) as {
      status: string;
      workers: { pid: number; alive: boolean; routers: number }[];
    };
    assert.equal(h.status, 'ok');
    assert.equal(h.workers.length, 1);
    assert.equal(h.workers[0]!.alive, true);
    assert.ok(h.workers[0]!.pid > 0);
    const nf = await fetch(`${s.url}/api/nope`);
    assert.equal(nf.status, 404);
    assert.equal(((await nf.json()) as { error: string }).error, 'NOT_FOUND');
  });
});

describe('password limiter (own server: it locks 127.0.0.1)', () => {
  test('5 wrong passwords → TOO_MANY_ATTEMPTS, even with the right one', async () => {
    const s = await startTestServer();
    try {
      const c = await connectSignaling(s.wsUrl);
      clients.push(c);
      const { room } = await c.request('room.create', { name: 'Vault', password: 'right' });
      for (let i = 0; i < 5; i++) {
        assert.equal(
          await rejectCode(
            c.request('room.join', { roomId: room.id, nickname: 'x', password: `wrong${i}` }),
          ),
          'BAD_PASSWORD',
        );
      }
      assert.equal(
        await rejectCode(
          c.request('room.join', { roomId: room.id, nickname: 'x', password: 'wrong' }),
        ),
        'TOO_MANY_ATTEMPTS',
      );
      assert.equal(
        await rejectCode(
          c.request('room.join', { roomId: room.id, nickname: 'x', password: 'right' }),
        ),
        'TOO_MANY_ATTEMPTS',
      );
      // Rooms without a password are unaffected.
      const { room: open } = await c.request('room.create', { name: 'Open' });
      await c.request('room.join', { roomId: open.id, nickname: 'x' });
    } finally {
      closeClients();
      await s.stop();
    }
  });
});
