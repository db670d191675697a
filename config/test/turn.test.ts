import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '@tutti/config';

test('ICE and TURN settings: defaults', () => {
  const c = loadConfig({}, {});
  assert.deepEqual(c.media.iceServers, []);
  assert.equal(c.media.iceTransportPolicy, 'all');
  assert.deepEqual(c.turn, { urls: [], ttlSeconds: 86400 });
});

test('ICE and TURN settings from the environment', () => {
  const c = loadConfig(
    {},
    {
      TUTTI_TURN_URLS: 'turn:127.0.0.1:3478?transport=udp, turns:turn.example.org:5349',
      TUTTI_TURN_SECRET: 'static-auth-secret',
      TUTTI_TURN_TTL_SECONDS: '3600',
      TUTTI_MEDIA_ICE_SERVERS:
        '[{"urls":"stun:stun.example.org"},{"urls":["turn:t.example.org"],"username":"u","credential":"p"}]',
      TUTTI_MEDIA_ICE_TRANSPORT_POLICY: 'relay',
    },
  );
  assert.deepEqual(c.turn, {
    urls: ['turn:127.0.0.1:3478?transport=udp', 'turns:turn.example.org:5349'],
    secret: 'static-auth-secret',
    ttlSeconds: 3600,
  });
  assert.deepEqual(c.media.iceServers, [
    { urls: ['stun:stun.example.org'] },
    { urls: ['turn:t.example.org'], username: 'u', credential: 'p' },
  ]);
  assert.equal(c.media.iceTransportPolicy, 'relay');
});

test('bad ICE and TURN settings fail start-up naming the setting', () => {
  assert.throws(() => loadConfig({}, { TUTTI_TURN_URLS: 'turn:x:3478' }), /turn\.secret/);
  assert.throws(
    () => loadConfig({}, { TUTTI_TURN_URLS: 'http://x', TUTTI_TURN_SECRET: 's' }),
    /turn\.urls\.0/,
  );
  assert.throws(
    () => loadConfig({}, { TUTTI_MEDIA_ICE_SERVERS: '[{"urls":"turn:x"}]' }),
    /media\.iceServers\.0: a TURN entry needs username and credential/,
  );
  assert.throws(
    () => loadConfig({}, { TUTTI_MEDIA_ICE_TRANSPORT_POLICY: 'none' }),
    /media\.iceTransportPolicy/,
  );
  assert.throws(() => loadConfig({}, { TUTTI_TURN_TTL_SECONDS: '0' }), /turn\.ttlSeconds/);
});
