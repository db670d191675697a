import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { loadConfig } from '@tutti/config';
import { iceSettingsFrom, turnCredentials } from '../../src/ops/turn.ts';

test('TURN REST credentials: <expiry>:<user>, base64 HMAC-SHA1 of it keyed by the secret', () => {
  const now = 1_700_000_000_000; // 2023-11-14T22:13:20Z
  const c = turnCredentials('north', 'peer-1', 3600, now);
  assert.equal(c.username, '1700003600:peer-1');
  assert.equal(c.expiresAt, 1_700_003_600);
  // The same HMAC, by hand…
  const byHand = createHmac('sha1', 'north').update('1700003600:peer-1').digest('base64');
  assert.equal(c.credential, byHand);
  // …and as `openssl dgst -sha1 -hmac north -binary | base64` printed it.
  assert.equal(c.credential, 'NvjBQ02+UKUcIZyEMLqm6ysgGjw=');
});

test('a fraction of a second does not move the expiry; another user or secret changes the HMAC', () => {
  const a = turnCredentials('north', 'peer-1', 60, 1_700_000_000_999);
  assert.equal(a.username, '1700000060:peer-1');
  assert.notEqual(
    turnCredentials('north', 'peer-2', 60, 1_700_000_000_999).credential,
    a.credential,
  );
  assert.notEqual(
    turnCredentials('south', 'peer-1', 60, 1_700_000_000_999).credential,
    a.credential,
  );
});

test('join ICE settings: static servers as configured, then TURN with credentials per peer', () => {
  const config = loadConfig(
    {
      media: {
        iceServers: [{ urls: 'stun:stun.example.org:3478' }],
        iceTransportPolicy: 'relay',
      },
      turn: { urls: ['turn:127.0.0.1:3478?transport=udp'], secret: 's3cret', ttlSeconds: 600 },
    },
    {},
  );
  const before = Math.floor(Date.now() / 1000);
  const ice = iceSettingsFrom(config)('peer-a');
  assert.equal(ice.iceTransportPolicy, 'relay');
  assert.equal(ice.iceServers.length, 2);
  assert.deepEqual(ice.iceServers[0], { urls: ['stun:stun.example.org:3478'] });
  const turn = ice.iceServers[1]!;
  assert.deepEqual(turn.urls, ['turn:127.0.0.1:3478?transport=udp']);
  const [expiry, user] = turn.username!.split(':');
  assert.equal(user, 'peer-a');
  assert.ok(Number(expiry) >= before + 600 && Number(expiry) <= before + 601, `expiry ${expiry}`);
  const expected = createHmac('sha1', 's3cret').update(turn.username!).digest('base64');
  assert.equal(turn.credential, expected);
  // Another joiner gets its own username.
  assert.match(iceSettingsFrom(config)('peer-b').iceServers[1]!.username!, /:peer-b$/);
});

test('no TURN configured: only the static servers, policy all', () => {
  const ice = iceSettingsFrom(loadConfig({}, {}))('peer-a');
  assert.deepEqual(ice, { iceServers: [], iceTransportPolicy: 'all' });
});
