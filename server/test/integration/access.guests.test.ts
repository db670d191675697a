import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { mintJoinToken } from '../../src/admin/joinToken.ts';
import { ApiKeys } from '../../src/admin/keys.ts';
import { TEST_AUTH } from '../helpers/authApp.ts';
import { rejectCode } from './bot.ts';

// auth.guests=false and the Origin check of /ws, on a full server.
const DEV_ORIGIN = 'http://localhost:5173';
let server: TestServer;
const clients: SignalingClient[] = [];

before(async () => {
  server = await startTestServer({
    auth: { ...TEST_AUTH, guests: false },
    signaling: { allowedOrigins: [DEV_ORIGIN] },
  });
});

after(async () => {
  for (const c of clients) c.close();
  await server?.stop();
});

const connect = async (handshake: { origin?: string; headers?: Record<string, string> } = {}) => {
  const c = await connectSignaling(server.wsUrl, 5000, handshake);
  clients.push(c);
  return c;
};

async function signUp(email: string): Promise<string> {
  const res = await fetch(`${server.url}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.url },
    body: JSON.stringify({ email, password: 'long enough password', name: 'Signed In' }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('tutti_session='));
  assert.ok(cookie);
  return cookie.split(';')[0]!;
}

test('auth.guests=false: a guest cannot join any room (SIGN_IN_REQUIRED); a signed-in user can', async () => {
  const owner = await connect();
  const { room } = await owner.request('room.create', { name: 'Members only' });
  const guest = await connect();
  assert.equal(
    await rejectCode(guest.request('room.join', { roomId: room.id, nickname: 'Guest' })),
    'SIGN_IN_REQUIRED',
  );
  // A forged or stale cookie is no session.
  const forged = await connect({ headers: { cookie: 'tutti_session=not-a-session' } });
  assert.equal(
    await rejectCode(forged.request('room.join', { roomId: room.id, nickname: 'Forged' })),
    'SIGN_IN_REQUIRED',
  );

  const cookie = await signUp('member@example.test');
  const member = await connect({ headers: { cookie } });
  const joined = await member.request('room.join', { roomId: room.id, nickname: 'Member' });
  assert.equal(joined.self.nickname, 'Member');

  // Logged out: the same connection's cookie no longer counts for the next join.
  await member.request('room.leave', {});
  const out = await fetch(`${server.url}/api/auth/logout`, {
    method: 'POST',
    headers: { origin: server.url, cookie },
  });
  assert.ok(out.status < 300, `logout: ${out.status}`);
  assert.equal(
    await rejectCode(member.request('room.join', { roomId: room.id, nickname: 'Member' })),
    'SIGN_IN_REQUIRED',
  );

  // A join token vouches for its holder (the backend signed them in).
  const key = await new ApiKeys(server.app.tutti.stores.auth).create('guests test');
  const token = mintJoinToken(key, {
    identity: 'backend-user',
    room: room.id,
    role: 'participant',
    ttlSeconds: 60,
  });
  const holder = await connect();
  assert.equal(
    (await holder.request('room.join', { roomId: room.id, nickname: 'x', token })).self.nickname,
    'backend-user',
  );
});

test('/ws Origin check: cross-origin upgrades are refused; same origin, allowed origins and no Origin pass', async () => {
  await assert.rejects(connect({ origin: 'http://evil.example' }), /connect failed/);
  await assert.rejects(connect({ origin: 'null' }), /connect failed/);
  const same = await connect({ origin: server.url });
  assert.ok((await same.request('lobby.subscribe', {})).rooms);
  const dev = await connect({ origin: DEV_ORIGIN });
  assert.ok((await dev.request('lobby.subscribe', {})).rooms);
  const bot = await connect(); // no Origin: not a browser
  assert.ok((await bot.request('lobby.subscribe', {})).rooms);
  // The refusal is a plain 403 with the shared error body.
  const res = await fetch(`${server.url}/ws`, { headers: { origin: 'http://evil.example' } });
  assert.equal(res.status, 403);
  assert.equal(((await res.json()) as { error: string }).error, 'FORBIDDEN');
});
