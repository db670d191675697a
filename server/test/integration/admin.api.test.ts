import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import type { PeerInfo, RoomSummary } from '@tutti/protocol';
import { connectSignaling } from '../../../test/helpers/signalingClient.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { mintJoinToken } from '../../src/admin/joinToken.ts';
import { ApiKeys } from '../../src/admin/keys.ts';
import { verifyWebhook } from '../../src/webhooks/signature.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver.ts';
import { joinBot, rejectCode, type Bot } from './bot.ts';

// The admin API, API keys and join tokens, and the webhooks, on a full server (real worker).
const WEBHOOK_SECRET = 'accounts-api webhook secret';
let server: TestServer;
let receiver: WebhookReceiver;
let keys: ApiKeys;
let key: { id: string; secret: string };
const bots: Bot[] = [];

before(async () => {
  receiver = await startWebhookReceiver();
  server = await startTestServer({
    webhooks: { urls: [receiver.url], secret: WEBHOOK_SECRET, backoffMs: 50 },
    // The loopback server, but one address of it only: 127.0.0.11 is outside the list.
    admin: { allowIps: ['127.0.0.1/32', '::1/128'] },
  });
  keys = new ApiKeys(server.app.tutti.stores.auth);
  key = await keys.create('integration');
});

after(async () => {
  for (const b of bots) b.client.close();
  await server?.stop();
  await receiver?.close();
});

const bearer = (k: { id: string; secret: string }) => `Bearer ${k.id}:${k.secret}`;

async function admin(
  method: string,
  path: string,
  opts: { body?: unknown; auth?: string | null } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (opts.auth !== null) headers.authorization = opts.auth ?? bearer(key);
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A GET from another local address (127.0.0.11), as a client outside admin.allowIps. */
function getFrom(localAddress: string, path: string, auth: string): Promise<number> {
  const url = new URL(`${server.url}${path}`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, localAddress, headers: { authorization: auth } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const createRoom = async (name: string): Promise<RoomSummary> => {
  const r = await admin('POST', '/api/admin/rooms', { body: { name } });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.room as RoomSummary;
};

test('admin API: no key, a wrong secret, a malformed header or a revoked key → 401', async () => {
  assert.equal((await admin('GET', '/api/admin/rooms', { auth: null })).status, 401);
  assert.equal(
    (await admin('GET', '/api/admin/rooms', { auth: `Bearer ${key.id}:nope` })).status,
    401,
  );
  assert.equal(
    (await admin('GET', '/api/admin/rooms', { auth: `Bearer ${key.secret}` })).status,
    401,
  );
  const other = await keys.create('revoked soon');
  assert.equal((await admin('GET', '/api/admin/rooms', { auth: bearer(other) })).status, 200);
  await keys.revoke(other.id);
  const refused = await admin('GET', '/api/admin/rooms', { auth: bearer(other) });
  assert.equal(refused.status, 401);
  assert.equal(refused.json.error, 'UNAUTHORIZED');
});

test('admin API: an address outside admin.allowIps is refused (403) even with a valid key', async () => {
  assert.equal(await getFrom('127.0.0.1', '/api/admin/rooms', bearer(key)), 200);
  assert.equal(await getFrom('127.0.0.11', '/api/admin/rooms', bearer(key)), 403);
  assert.equal(await getFrom('127.0.0.11', '/api/admin/rooms', 'Bearer x:y'), 403);
});

test('admin API: bodies are validated; OpenAPI 3.1 is served at /api/docs', async () => {
  const bad = await admin('POST', '/api/admin/rooms', { body: { name: '', extra: 1 } });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'INVALID_REQUEST');
  const tooLong = await admin('POST', '/api/admin/tokens', {
    body: { room: 'r', identity: 'x', ttlSeconds: 10_000_000 },
  });
  assert.equal(tooLong.status, 400);
  const strayBody = await admin('POST', '/api/admin/rooms/x/participants/y/mute', {
    body: { a: 1 },
  });
  assert.equal(strayBody.status, 400);
  for (const path of ['/api/docs', '/api/docs/openapi.json']) {
    const res = await fetch(`${server.url}${path}`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/admin/rooms/{roomId}/participants/{peerId}/mute']);
    assert.ok(doc.paths['/api/admin/tokens']);
  }
});

test('admin API: create, list with participants, mute, remove, close', async () => {
  const room = await createRoom('Admin managed');
  const ann = await joinBot(server.wsUrl, room.id, 'Ann');
  const ben = await joinBot(server.wsUrl, room.id, 'Ben');
  bots.push(ann, ben);
  await ann.setupMedia();
  const mic = await ann.produce('mic');

  const listed = await admin('GET', '/api/admin/rooms');
  const summary = (listed.json.rooms as RoomSummary[]).find((r) => r.id === room.id);
  assert.equal(summary?.peers, 2);
  const people = await admin('GET', `/api/admin/rooms/${room.id}/participants`);
  assert.deepEqual(
    (people.json.participants as PeerInfo[]).map((p) => [p.nickname, p.mic]).sort(),
    [
      ['Ann', 'on'],
      ['Ben', 'none'],
    ],
  );

  // Mute: paused on the server, Ann is told, Ben sees her mic off.
  const muted = await admin(
    'POST',
    `/api/admin/rooms/${room.id}/participants/${ann.join.self.id}/mute`,
  );
  assert.equal(muted.status, 200);
  assert.deepEqual(muted.json.paused, [mic]);
  // The same notice as a moderator's mute (one contract for the client).
  const told = await ann.client.nextNotification('moderation.muted');
  assert.deepEqual(told, { by: 'admin', canUnmute: true });
  await ben.client.nextNotification(
    'room.peerUpdated',
    (d) => d.peer.id === ann.join.self.id && d.peer.mic === 'off',
  );
  // Ann may unmute herself.
  await ann.client.request('media.resumeProducer', { producerId: mic });
  const again = await admin(
    'POST',
    `/api/admin/rooms/${room.id}/participants/${ann.join.self.id}/mute`,
  );
  assert.deepEqual(again.json.paused, [mic]);

  // Unknown room or participant: 404 with the shared codes.
  assert.equal(
    (await admin('POST', `/api/admin/rooms/${room.id}/participants/nobody/mute`)).json.error,
    'NOT_FOUND',
  );
  assert.equal(
    (await admin('GET', '/api/admin/rooms/nope/participants')).json.error,
    'ROOM_NOT_FOUND',
  );

  // Remove Ben: he is told, Ann sees him leave, his socket stays usable for the lobby.
  const removed = await admin(
    'DELETE',
    `/api/admin/rooms/${room.id}/participants/${ben.join.self.id}`,
  );
  assert.equal(removed.status, 204);
  assert.deepEqual(await ben.client.nextNotification('moderation.removed'), {
    by: 'admin',
    banned: false,
  });
  await ann.client.nextNotification('room.peerLeft', (d) => d.peerId === ben.join.self.id);
  assert.equal(
    await rejectCode(ben.client.request('chat.send', { text: 'still here?' })),
    'NOT_JOINED',
  );

  // Close: Ann is told room.closed, the room is gone.
  assert.equal((await admin('DELETE', `/api/admin/rooms/${room.id}`)).status, 204);
  assert.deepEqual(await ann.client.nextNotification('room.closed'), { reason: 'deleted' });
  const after = await admin('GET', '/api/admin/rooms');
  assert.ok(!(after.json.rooms as RoomSummary[]).some((r) => r.id === room.id));
  assert.equal((await admin('DELETE', `/api/admin/rooms/${room.id}`)).status, 404);
});

test('join tokens over room.join: nickname and role from the token; tampered, expired, wrong-room, revoked refused', async () => {
  const room = await createRoom('Token room');
  const other = await createRoom('Other room');
  const join = async (token: string, roomId = room.id) => {
    const c = await connectSignaling(server.wsUrl);
    try {
      return await c.request('room.join', { roomId, nickname: 'typed name', token });
    } finally {
      c.close();
    }
  };
  const minted = mintJoinToken(key, {
    identity: 'u-1',
    name: 'Token Ann',
    room: room.id,
    role: 'moderator',
    ttlSeconds: 300,
  });
  const c = await connectSignaling(server.wsUrl);
  const joined = await c.request('room.join', {
    roomId: room.id,
    nickname: 'typed name',
    token: minted,
  });
  assert.equal(joined.self.nickname, 'Token Ann');
  assert.equal(joined.self.role, 'moderator');
  const seen = await admin('GET', `/api/admin/rooms/${room.id}/participants`);
  assert.equal((seen.json.participants as PeerInfo[])[0]?.role, 'moderator');
  c.close();

  // A token minted by the server for the calling key (POST /api/admin/tokens) works the same.
  const served = await admin('POST', '/api/admin/tokens', {
    body: { room: room.id, identity: 'u-2', name: 'Served', role: 'participant', ttlSeconds: 60 },
  });
  assert.equal(served.status, 201);
  assert.equal((await join(String(served.json.token))).self.role, 'participant');
  assert.equal(
    (await admin('POST', '/api/admin/tokens', { body: { room: 'nope', identity: 'x' } })).status,
    404,
  );

  const [h, p, s] = minted.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, role: 'owner' })).toString('base64url')}.${s}`;
  assert.equal(await rejectCode(join(tampered)), 'TOKEN_INVALID');
  const expired = mintJoinToken(key, {
    identity: 'u',
    room: room.id,
    role: 'owner',
    ttlSeconds: 5,
    now: Date.now() - 60_000,
  });
  assert.equal(await rejectCode(join(expired)), 'TOKEN_EXPIRED');
  assert.equal(await rejectCode(join(minted, other.id)), 'TOKEN_WRONG_ROOM');
  assert.equal(await rejectCode(join('abc.def.ghi')), 'TOKEN_INVALID');
  const doomed = await keys.create('doomed');
  const doomedToken = mintJoinToken(doomed, {
    identity: 'u',
    room: room.id,
    role: 'participant',
    ttlSeconds: 60,
  });
  assert.equal((await join(doomedToken)).self.nickname, 'u');
  await keys.revoke(doomed.id);
  assert.equal(await rejectCode(join(doomedToken)), 'TOKEN_KEY_UNKNOWN');
});

test('webhooks: room_started, participant_joined, participant_left, room_finished, signed', async () => {
  const room = await createRoom('Hooked');
  const start = receiver.received.length;
  const a = await joinBot(server.wsUrl, room.id, 'Ann');
  // Ben comes with a join token: his identity and role are in his events.
  const b = await joinBot(server.wsUrl, room.id, 'Ben');
  await b.client.request('room.leave', {});
  const benToken = mintJoinToken(key, {
    identity: 'crm-ben',
    name: 'Ben',
    room: room.id,
    role: 'moderator',
    ttlSeconds: 60,
  });
  await b.client.request('room.join', { roomId: room.id, nickname: 'x', token: benToken });
  a.client.close();
  await b.client.nextNotification('room.peerLeft', (d) => d.peerId === a.join.self.id);
  b.client.close();
  const deadline = Date.now() + 5000;
  const mine = () =>
    receiver.received
      .slice(start)
      .map((r) => ({
        r,
        json: JSON.parse(r.body) as {
          event: string;
          room: { id: string; name: string };
          participant?: { nickname: string; identity?: string; role?: string };
        },
      }))
      .filter((x) => x.json.room.id === room.id);
  while (mine().length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const events = mine();
  assert.deepEqual(
    events.map((e) => {
      const p = e.json.participant;
      return [e.json.event, p?.nickname, p?.identity, p?.role].filter(Boolean).join(' ');
    }),
    [
      'room_started',
      'participant_joined Ann participant',
      'participant_joined Ben participant',
      'participant_left Ben participant',
      'participant_joined Ben crm-ben moderator',
      'participant_left Ann participant',
      'participant_left Ben crm-ben moderator',
      'room_finished',
    ],
  );
  for (const { r, json } of events) {
    assert.equal(json.room.name, 'Hooked');
    assert.equal(verifyWebhook(WEBHOOK_SECRET, String(r.headers['tutti-signature']), r.body), true);
  }
});

test('npm run admin: keys:create prints id and secret once; keys:list and keys:revoke', async () => {
  const run = promisify(execFile);
  const root = new URL('../../../', import.meta.url).pathname;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TUTTI_CONFIG: `${server.dataDir}/test-config.json`,
    TUTTI_DATA_DIR: server.dataDir,
  };
  delete env.TUTTI_DATABASE_URL;
  const cli = (...args: string[]) =>
    run(process.execPath, ['server/src/admin/cli.ts', ...args], {
      cwd: root,
      env,
      timeout: 20_000,
    });
  const created = await cli('keys:create', '--name', 'from the cli');
  const id = /id:\s+(tk_\w+)/.exec(created.stdout)?.[1];
  const secret = /secret:\s+(\S+)/.exec(created.stdout)?.[1];
  assert.ok(id && secret, created.stdout);
  // The running server sees the key at once (same database) and accepts it.
  assert.equal(
    (await admin('GET', '/api/admin/rooms', { auth: `Bearer ${id}:${secret}` })).status,
    200,
  );
  const listed = await cli('keys:list');
  assert.match(listed.stdout, new RegExp(`${id}\\s+\\S+\\s+active\\s+from the cli`));
  assert.ok(!listed.stdout.includes(secret), 'the secret is never listed');
  assert.match((await cli('keys:revoke', id)).stdout, /revoked/);
  assert.match((await cli('keys:list')).stdout, new RegExp(`${id}\\s+\\S+\\s+revoked`));
  await assert.rejects(cli('keys:revoke', id)); // exit 1: no active key
  assert.equal(
    (await admin('GET', '/api/admin/rooms', { auth: `Bearer ${id}:${secret}` })).status,
    401,
  );
});
