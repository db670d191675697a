import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, envName } from '@tutti/config';

test('defaults validate and give a loopback media listener on :3000', () => {
  const c = loadConfig({}, {});
  assert.equal(c.server.port, 3000);
  assert.equal(c.media.listenIp, '127.0.0.1');
  assert.equal(c.files.driver, 'local');
  assert.equal(c.chat.ratePerSecond, 10);
});

test('environment overrides every leaf by its path name', () => {
  assert.equal(envName(['media', 'listenIp']), 'TUTTI_MEDIA_LISTEN_IP');
  const c = loadConfig(
    {},
    {
      TUTTI_SERVER_PORT: '4100',
      TUTTI_FILES_S3_FORCE_PATH_STYLE: 'false',
      TUTTI_FILES_ALLOWED_TYPES: 'image/png, text/plain',
    },
  );
  assert.equal(c.server.port, 4100);
  assert.equal(c.files.s3.forcePathStyle, false);
  assert.deepEqual(c.files.allowedTypes, ['image/png', 'text/plain']);
});

test('overrides from code merge with defaults', () => {
  const c = loadConfig({ media: { numWorkers: 1 } }, {});
  assert.equal(c.media.numWorkers, 1);
  assert.equal(c.media.rtcMinPort, 40000);
});

test('a bad setting fails start-up with a readable message naming it', () => {
  assert.throws(() => loadConfig({}, { TUTTI_SERVER_PORT: 'abc' }), /server\.port/);
  assert.throws(() => loadConfig({}, { TUTTI_FILES_DRIVER: 'ftp' }), /files\.driver/);
});

test('file-sharing settings: secret, S3 prefix and checksum mode', () => {
  const d = loadConfig({}, {});
  assert.equal(d.files.secret, undefined);
  assert.equal(d.files.s3.prefix, '');
  assert.equal(d.files.s3.checksum, 'WHEN_REQUIRED');
  const c = loadConfig(
    {},
    {
      TUTTI_FILES_SECRET: 'a-long-shared-secret',
      TUTTI_FILES_S3_PREFIX: 'tutti/',
      TUTTI_FILES_S3_CHECKSUM: 'WHEN_SUPPORTED',
    },
  );
  assert.equal(c.files.secret, 'a-long-shared-secret');
  assert.equal(c.files.s3.prefix, 'tutti/');
  assert.equal(c.files.s3.checksum, 'WHEN_SUPPORTED');
  assert.throws(() => loadConfig({}, { TUTTI_FILES_SECRET: 'short' }), /files\.secret/);
});

test('signaling limits: defaults and environment', () => {
  const d = loadConfig({}, {});
  assert.deepEqual(d.signaling, {
    requestsPerSecond: 50,
    requestBurst: 200,
    roomCreatesPerMinute: 30,
  });
  assert.equal(
    envName(['signaling', 'roomCreatesPerMinute']),
    'TUTTI_SIGNALING_ROOM_CREATES_PER_MINUTE',
  );
  const c = loadConfig(
    {},
    { TUTTI_SIGNALING_REQUESTS_PER_SECOND: '2.5', TUTTI_SIGNALING_ROOM_CREATES_PER_MINUTE: '5' },
  );
  assert.equal(c.signaling.requestsPerSecond, 2.5);
  assert.equal(c.signaling.roomCreatesPerMinute, 5);
  assert.throws(
    () => loadConfig({}, { TUTTI_SIGNALING_REQUEST_BURST: '0' }),
    /signaling\.requestBurst/,
  );
});

test('media.maxConsumersPerRouter: 1000 by default, TUTTI_MEDIA_MAX_CONSUMERS_PER_ROUTER, ≥ 1', () => {
  assert.equal(loadConfig({}, {}).media.maxConsumersPerRouter, 1000);
  assert.equal(envName(['media', 'maxConsumersPerRouter']), 'TUTTI_MEDIA_MAX_CONSUMERS_PER_ROUTER');
  const c = loadConfig({}, { TUTTI_MEDIA_MAX_CONSUMERS_PER_ROUTER: '50' });
  assert.equal(c.media.maxConsumersPerRouter, 50);
  assert.throws(
    () => loadConfig({}, { TUTTI_MEDIA_MAX_CONSUMERS_PER_ROUTER: '0' }),
    /media\.maxConsumersPerRouter/,
  );
});
