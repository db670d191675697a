import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { rejectCode } from './bot.ts';

// Issue 10, defects 2 and 3: password guesses are counted before the hash, and one bucket no
// longer covers every room's password and owner secret.

const roomy = {
  signaling: { requestsPerSecond: 1000, requestBurst: 1000, roomCreatesPerMinute: 100 },
};

async function clients(s: TestServer, n: number): Promise<SignalingClient[]> {
  return Promise.all(Array.from({ length: n }, () => connectSignaling(s.wsUrl)));
}

async function createRoom(s: TestServer, name: string, password: string) {
  const c = await connectSignaling(s.wsUrl);
  try {
    return await c.request('room.create', { name, password });
  } finally {
    c.close();
  }
}

function patchRoom(s: TestServer, roomId: string, secret: string) {
  return fetch(`${s.url}/api/rooms/${roomId}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', 'x-owner-secret': secret },
    body: JSON.stringify({ capacity: 7 }),
  });
}

test('60 concurrent wrong guesses: at most the limit are evaluated, then even the right password is locked', async () => {
  const s = await startTestServer(roomy);
  try {
    const { room } = await createRoom(s, 'Vault', 'right-password');
    const guessers = await clients(s, 60);
    const codes = await Promise.all(
      guessers.map((c, i) =>
        rejectCode(
          c.request('room.join', { roomId: room.id, nickname: `g${i}`, password: `wrong-${i}` }),
        ),
      ),
    );
    const evaluated = codes.filter((c) => c === 'BAD_PASSWORD').length;
    assert.ok(
      codes.every((c) => c === 'BAD_PASSWORD' || c === 'TOO_MANY_ATTEMPTS'),
      codes.join(),
    );
    assert.ok(evaluated <= s.config.rooms.passwordMaxAttempts, `${evaluated} guesses evaluated`);
    const [late] = await clients(s, 1);
    assert.equal(
      await rejectCode(
        late!.request('room.join', { roomId: room.id, nickname: 'me', password: 'right-password' }),
      ),
      'TOO_MANY_ATTEMPTS',
    );
    for (const c of [...guessers, late!]) c.close();
  } finally {
    await s.stop();
  }
});

test('wrong passwords for one room and wrong owner secrets do not lock another room', async () => {
  const s = await startTestServer(roomy);
  try {
    const a = await createRoom(s, 'Room A', 'password-a');
    const b = await createRoom(s, 'Room B', 'password-b');
    const guessers = await clients(s, 8);
    // Wrong passwords for B, well past the limit.
    for (const [i, c] of guessers.entries()) {
      await rejectCode(
        c.request('room.join', { roomId: b.room.id, nickname: `g${i}`, password: 'nope' }),
      );
    }
    // Wrong owner secrets for B, well past the limit.
    for (let i = 0; i < 8; i++) {
      const res = await patchRoom(s, b.room.id, `wrong-secret-${i}`);
      assert.ok(res.status === 403 || res.status === 429, String(res.status));
    }
    // Room A's right password still works from the same address…
    const [member] = await clients(s, 1);
    const joined = await member!.request('room.join', {
      roomId: a.room.id,
      nickname: 'alice',
      password: 'password-a',
    });
    assert.equal(joined.room.id, a.room.id);
    // …and so do both rooms' owner secrets: the 192-bit secret is not behind the password bucket.
    assert.equal((await patchRoom(s, a.room.id, a.ownerSecret)).status, 200);
    assert.equal((await patchRoom(s, b.room.id, b.ownerSecret)).status, 200);
    for (const c of [...guessers, member!]) c.close();
  } finally {
    await s.stop();
  }
});
