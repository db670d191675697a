import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TuttiError, type ErrorCode } from '@tutti/protocol';
import { mintJoinToken, verifyJoinToken } from '../../src/admin/joinToken.ts';
import { createJoinPolicy } from '../../src/admin/joinPolicy.ts';
import { ApiKeys, signingKeyOf } from '../../src/admin/keys.ts';
import { createStore, type Stores } from '../../src/store/createStore.ts';
import type { MemberChannel } from '../../src/rooms/ports.ts';

let dir: string;
let stores: Stores;
let keys: ApiKeys;
let key: { id: string; secret: string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tutti-accounts-api-'));
  stores = await createStore({ dataDir: dir });
  keys = new ApiKeys(stores.auth);
  key = await keys.create('unit');
});

after(async () => {
  await stores.close();
  await rm(dir, { recursive: true, force: true });
});

const verify = (token: string, now?: number) =>
  verifyJoinToken(token, {
    signingKey: (id) => keys.signingKey(id),
    maxTtlSeconds: 86_400,
    ...(now !== undefined && { now }),
  });

const grant = { identity: 'user-42', name: 'Ann', room: 'room-1', role: 'moderator' as const };

async function code(p: Promise<unknown>): Promise<ErrorCode | string> {
  try {
    await p;
  } catch (err) {
    return err instanceof TuttiError ? err.code : String(err);
  }
  return 'accepted';
}

/** A token with its payload replaced (signature kept): what a tamperer would send. */
function withPayload(token: string, change: (claims: Record<string, unknown>) => void): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  change(claims);
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
}

test('API keys: the secret is printed once and only its SHA-256 is stored; auth needs the secret', async () => {
  assert.match(key.id, /^tk_[A-Za-z0-9]{16}$/);
  assert.ok(key.secret.length >= 43);
  const stored = await stores.auth.apiKey(key.id);
  assert.ok(stored);
  assert.equal(stored.secretHash, signingKeyOf(key.secret).toString('base64url'));
  assert.ok(!JSON.stringify(stored).includes(key.secret), 'the secret is not in the store');
  assert.equal((await keys.authenticate(key.id, key.secret))?.id, key.id);
  assert.equal(await keys.authenticate(key.id, `${key.secret}x`), undefined);
  // The stored digest itself is no credential for the admin API.
  assert.equal(await keys.authenticate(key.id, stored.secretHash), undefined);
  assert.equal(await keys.authenticate('tk_AAAAAAAAAAAAAAAA', key.secret), undefined);
  assert.deepEqual(
    (await keys.list()).map((k) => Object.keys(k).sort()),
    [['createdAt', 'id', 'name', 'revokedAt']],
  );
});

test('join token: a minted token verifies and carries identity, name, room and role', async () => {
  const token = mintJoinToken(key, { ...grant, ttlSeconds: 600 });
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as object;
  assert.deepEqual(header, { alg: 'HS256', typ: 'JWT', kid: key.id });
  const v = await verify(token);
  assert.equal(v.keyId, key.id);
  assert.equal(v.identity, 'user-42');
  assert.equal(v.name, 'Ann');
  assert.equal(v.room, 'room-1');
  assert.equal(v.role, 'moderator');
  assert.ok(Math.abs(v.expiresAt - (Date.now() + 600_000)) < 2000);
});

test('join token: tampered claims, signature or header are refused as TOKEN_INVALID', async () => {
  const token = mintJoinToken(key, { ...grant, role: 'participant', ttlSeconds: 600 });
  assert.equal(await code(verify(withPayload(token, (c) => (c.role = 'owner')))), 'TOKEN_INVALID');
  assert.equal(await code(verify(withPayload(token, (c) => (c.room = 'other')))), 'TOKEN_INVALID');
  assert.equal(await code(verify(withPayload(token, (c) => (c.exp = 9e9)))), 'TOKEN_INVALID');
  const [h, p, s] = token.split('.') as [string, string, string];
  const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);
  assert.equal(await code(verify(`${h}.${p}.${flipped}`)), 'TOKEN_INVALID');
  assert.equal(await code(verify(`${h}.${p}.`)), 'TOKEN_INVALID');
  assert.equal(await code(verify('not-a-token')), 'TOKEN_INVALID');
  // alg "none" (unsigned) and a different algorithm are refused before any key lookup.
  const none = Buffer.from(JSON.stringify({ alg: 'none', kid: key.id })).toString('base64url');
  assert.equal(await code(verify(`${none}.${p}.`)), 'TOKEN_INVALID');
  // Signed with another secret under this key id: the signature does not match.
  const forged = mintJoinToken(
    { id: key.id, secret: 'guessed secret' },
    { ...grant, ttlSeconds: 60 },
  );
  assert.equal(await code(verify(forged)), 'TOKEN_INVALID');
});

test('join token: expired, over-long and unknown-key tokens get their own codes', async () => {
  const old = mintJoinToken(key, { ...grant, ttlSeconds: 60, now: Date.now() - 120_000 });
  assert.equal(await code(verify(old)), 'TOKEN_EXPIRED');
  const justNow = mintJoinToken(key, { ...grant, ttlSeconds: 1 });
  assert.equal(await code(verify(justNow, Date.now() + 1500)), 'TOKEN_EXPIRED');
  const long = mintJoinToken(key, { ...grant, ttlSeconds: 86_400 * 30 });
  assert.equal(await code(verify(long)), 'TOKEN_INVALID');
  const stranger = mintJoinToken(
    { id: 'tk_BBBBBBBBBBBBBBBB', secret: key.secret },
    { ...grant, ttlSeconds: 60 },
  );
  assert.equal(await code(verify(stranger)), 'TOKEN_KEY_UNKNOWN');
});

test('revoking a key refuses its tokens and its admin credential from then on', async () => {
  const k = await keys.create('to revoke');
  const token = mintJoinToken(k, { ...grant, ttlSeconds: 600 });
  assert.equal(await code(verify(token)), 'accepted');
  assert.equal(await keys.revoke(k.id), true);
  assert.equal(await code(verify(token)), 'TOKEN_KEY_UNKNOWN');
  assert.equal(await keys.authenticate(k.id, k.secret), undefined);
  assert.equal(await keys.revoke(k.id), false);
  assert.notEqual((await keys.list()).find((x) => x.id === k.id)?.revokedAt, null);
});

const peer = { id: 'peer-1', ip: '127.0.0.1' } as MemberChannel;

test('join policy: a token sets nickname and role, must name the room; guests obey auth.guests', async () => {
  let live = false;
  const policy = (guests: boolean) =>
    createJoinPolicy({ keys, maxTokenTtlSeconds: 3600, guests, signedIn: async () => live });
  const token = mintJoinToken(key, { ...grant, ttlSeconds: 60 });
  assert.deepEqual(await policy(true)(peer, { roomId: 'room-1', nickname: 'typed', token }), {
    nickname: 'Ann',
    role: 'moderator',
  });
  const noName = mintJoinToken(key, {
    identity: 'bob@corp',
    room: 'room-1',
    role: 'participant',
    ttlSeconds: 60,
  });
  assert.equal(
    (await policy(true)(peer, { roomId: 'room-1', nickname: 'x', token: noName })).nickname,
    'bob@corp',
  );
  assert.equal(
    await code(policy(true)(peer, { roomId: 'room-2', nickname: 'x', token })),
    'TOKEN_WRONG_ROOM',
  );
  // auth.guests on: anyone; off: only signed-in connections (or token holders).
  assert.deepEqual(await policy(true)(peer, { roomId: 'r', nickname: 'Guest' }), {
    nickname: 'Guest',
  });
  assert.equal(
    await code(policy(false)(peer, { roomId: 'r', nickname: 'Guest' })),
    'SIGN_IN_REQUIRED',
  );
  assert.equal(
    (await policy(false)(peer, { roomId: 'room-1', nickname: 'x', token })).role,
    'moderator',
  );
  live = true;
  assert.deepEqual(await policy(false)(peer, { roomId: 'r', nickname: 'Member' }), {
    nickname: 'Member',
  });
});
