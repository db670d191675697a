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
    maxBufferedBytes: 4 * 1024 * 1024,
    maxResponseBytes: 1024 * 1024,
    preframeBroadcasts: true,
    coalesceWritesMs: 20,
    coalesceFromFramesPerSecond: 50_000,
    pingIntervalSeconds: 25,
    maxConnectionsPerAddress: 100,
    allowedOrigins: [],
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
  const baseline = loadConfig({}, { TUTTI_SIGNALING_PREFRAME_BROADCASTS: 'false' });
  assert.equal(baseline.signaling.preframeBroadcasts, false);
  const perTick = loadConfig({}, { TUTTI_SIGNALING_COALESCE_WRITES_MS: '0' });
  assert.equal(perTick.signaling.coalesceWritesMs, 0);
  assert.throws(
    () => loadConfig({}, { TUTTI_SIGNALING_COALESCE_WRITES_MS: '-1' }),
    /signaling\.coalesceWritesMs/,
  );
  assert.throws(
    () => loadConfig({}, { TUTTI_SIGNALING_REQUEST_BURST: '0' }),
    /signaling\.requestBurst/,
  );
});

test('server.trustProxy: a boolean, or a list of proxy addresses/CIDRs checked at start-up', () => {
  assert.equal(loadConfig({}, {}).server.trustProxy, false);
  assert.equal(loadConfig({}, { TUTTI_SERVER_TRUST_PROXY: 'true' }).server.trustProxy, true);
  assert.equal(
    loadConfig({}, { TUTTI_SERVER_TRUST_PROXY: ' 10.0.0.0/8, loopback ,fd00::/8' }).server
      .trustProxy,
    '10.0.0.0/8,loopback,fd00::/8',
  );
  for (const bad of ['10.0.0.0/33', 'proxy.example', '1.2.3.4/8/1', ' , ']) {
    assert.throws(
      () => loadConfig({}, { TUTTI_SERVER_TRUST_PROXY: bad }),
      /server\.trustProxy/,
      bad,
    );
  }
});

test('accounts: guests on by default, no providers, no public URL', () => {
  const d = loadConfig({}, {});
  assert.equal(d.auth.guests, true);
  assert.deepEqual(d.auth.providers, []);
  assert.equal(d.auth.allowInsecureProviders, false);
  assert.equal(d.server.publicUrl, undefined);
});

test('accounts: TUTTI_AUTH_PROVIDERS (JSON) and TUTTI_SERVER_PUBLIC_URL', () => {
  assert.equal(envName(['auth', 'providers']), 'TUTTI_AUTH_PROVIDERS');
  assert.equal(envName(['server', 'publicUrl']), 'TUTTI_SERVER_PUBLIC_URL');
  const c = loadConfig(
    {},
    {
      TUTTI_AUTH_GUESTS: 'false',
      TUTTI_SERVER_PUBLIC_URL: 'https://meet.example.com',
      TUTTI_AUTH_PROVIDERS: JSON.stringify([
        {
          id: 'kakao',
          name: 'Kakao',
          type: 'oidc',
          issuer: 'https://kauth.kakao.com',
          clientId: 'k',
          clientSecret: 's',
        },
        {
          id: 'naver',
          name: 'Naver',
          type: 'oauth2',
          authorizationUrl: 'https://nid.naver.com/oauth2.0/authorize',
          tokenUrl: 'https://nid.naver.com/oauth2.0/token',
          userinfoUrl: 'https://openapi.naver.com/v1/nid/me',
          clientId: 'n',
          clientSecret: 's',
          pkce: false,
          profile: { id: 'response.id', name: 'response.name', email: 'response.email' },
        },
      ]),
    },
  );
  assert.equal(c.auth.guests, false);
  assert.equal(c.server.publicUrl, 'https://meet.example.com');
  const [kakao, naver] = c.auth.providers;
  assert.equal(kakao?.type, 'oidc');
  assert.deepEqual(kakao?.scopes, ['openid', 'email', 'profile']);
  assert.equal(kakao?.profile.emailVerified, 'email_verified');
  assert.equal(naver?.type === 'oauth2' && naver.tokenAuth, 'post');
  assert.equal(naver?.pkce, false);
});

test('accounts: bad provider lists fail with the setting named', () => {
  assert.throws(() => loadConfig({}, { TUTTI_AUTH_PROVIDERS: 'not json' }), /auth\.providers/);
  assert.throws(
    () => loadConfig({}, { TUTTI_AUTH_PROVIDERS: '[{"id":"x","name":"X","type":"saml"}]' }),
    /auth\.providers\.0\.type/,
  );
  assert.throws(
    () =>
      loadConfig(
        {},
        {
          TUTTI_AUTH_PROVIDERS: JSON.stringify([
            {
              id: 'x',
              name: 'X',
              type: 'oauth2',
              clientId: 'c',
              authorizationUrl: 'https://a',
              tokenUrl: 'https://t',
              userinfoUrl: 'https://u',
            },
          ]),
        },
      ),
    /auth\.providers\.0\.profile/,
  );
  const dup = {
    id: 'g',
    name: 'G',
    type: 'oidc',
    issuer: 'https://accounts.google.com',
    clientId: 'c',
  };
  assert.throws(() => loadConfig({ auth: { providers: [dup, dup] } }, {}), /duplicate id/);
  assert.throws(() => loadConfig({}, { TUTTI_SERVER_PUBLIC_URL: 'ftp://x' }), /server\.publicUrl/);
});

test('cluster settings: the env names the cluster issue lists, with their defaults', async () => {
  const { hostname } = await import('node:os');
  const d = loadConfig({}, {});
  assert.equal(d.cluster.nodeId, hostname(), 'the node id defaults to the host name');
  assert.equal(d.cluster.heartbeatMs, 2000);
  assert.equal(d.cluster.nodeTimeoutMs, 6000);
  assert.equal(d.cluster.mediaReconcileMs, 10_000);
  assert.equal(
    loadConfig({}, { TUTTI_CLUSTER_MEDIA_RECONCILE_MS: '2500' }).cluster.mediaReconcileMs,
    2500,
  );
  assert.throws(
    () => loadConfig({}, { TUTTI_CLUSTER_MEDIA_RECONCILE_MS: '5' }),
    /mediaReconcileMs/,
  );
  assert.equal(d.database.url, undefined);
  assert.equal(d.redis.commandTimeoutMs, 1000);
  assert.equal(d.server.drainGraceSeconds, 60);
  assert.equal(d.server.resumeGraceSeconds, 15);
  const c = loadConfig(
    {},
    {
      TUTTI_SERVER_HOST: '10.0.0.5',
      PORT: '3100',
      TUTTI_MEDIA_LISTEN_IP: '0.0.0.0',
      TUTTI_MEDIA_ANNOUNCED_ADDRESS: '203.0.113.7',
      TUTTI_MEDIA_RTC_MIN_PORT: '41000',
      TUTTI_MEDIA_RTC_MAX_PORT: '41999',
      TUTTI_REDIS_URL: 'redis://:pw@redis:6379',
      TUTTI_DATABASE_URL: 'postgres://tutti:pw@db:5432/tutti',
      TUTTI_FILES_SECRET: 'a-long-shared-secret',
      TUTTI_CLUSTER_NODE_ID: 'media-1',
      TUTTI_CLUSTER_ADVERTISED_URL: 'http://10.0.0.5:3100',
    },
  );
  assert.equal(c.server.host, '10.0.0.5');
  assert.equal(c.server.port, 3100);
  assert.equal(c.media.listenIp, '0.0.0.0');
  assert.equal(c.media.announcedAddress, '203.0.113.7');
  assert.deepEqual([c.media.rtcMinPort, c.media.rtcMaxPort], [41000, 41999]);
  assert.equal(c.redis.url, 'redis://:pw@redis:6379');
  assert.equal(c.database.url, 'postgres://tutti:pw@db:5432/tutti');
  assert.equal(c.files.secret, 'a-long-shared-secret');
  assert.equal(c.cluster.nodeId, 'media-1');
  assert.equal(c.cluster.advertisedUrl, 'http://10.0.0.5:3100');
  assert.equal(envName(['cluster', 'nodeId']), 'TUTTI_CLUSTER_NODE_ID');
  assert.equal(envName(['database', 'url']), 'TUTTI_DATABASE_URL');
});

test('cluster settings are checked: bad node ids, URLs and timings fail start-up', () => {
  assert.throws(() => loadConfig({}, { TUTTI_CLUSTER_NODE_ID: 'a b/c' }), /cluster\.nodeId/);
  assert.throws(() => loadConfig({}, { TUTTI_DATABASE_URL: 'mysql://x' }), /database\.url/);
  assert.equal(
    loadConfig({}, { TUTTI_DATABASE_URL: 'postgresql://db/tutti' }).database.url,
    'postgresql://db/tutti',
  );
  assert.throws(
    () =>
      loadConfig({}, { TUTTI_CLUSTER_HEARTBEAT_MS: '5000', TUTTI_CLUSTER_NODE_TIMEOUT_MS: '6000' }),
    /cluster\.nodeTimeoutMs/,
  );
  assert.throws(
    () => loadConfig({}, { TUTTI_CLUSTER_ADVERTISED_URL: 'nope' }),
    /cluster\.advertisedUrl/,
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

test('metrics access and the drain grace: defaults, env, bad values', () => {
  const d = loadConfig({}, {});
  assert.deepEqual(d.metrics.allowIps, ['127.0.0.0/8', '::1/128'], 'loopback only');
  assert.equal(d.metrics.token, undefined);
  const c = loadConfig(
    {},
    {
      TUTTI_METRICS_TOKEN: 'a-long-enough-token',
      TUTTI_METRICS_ALLOW_IPS: '10.244.0.0/16, 192.0.2.7,fd00::/8',
      TUTTI_SERVER_DRAIN_GRACE_SECONDS: '0',
    },
  );
  assert.equal(c.metrics.token, 'a-long-enough-token');
  assert.deepEqual(c.metrics.allowIps, ['10.244.0.0/16', '192.0.2.7', 'fd00::/8']);
  assert.equal(c.server.drainGraceSeconds, 0, '0: SIGTERM stops at once');
  assert.deepEqual(
    loadConfig({ metrics: { allowIps: '' } }, {}).metrics.allowIps,
    [],
    'token only',
  );
  assert.throws(() => loadConfig({}, { TUTTI_METRICS_ALLOW_IPS: '10.0.0.0/33' }), /allowIps/);
  assert.throws(() => loadConfig({}, { TUTTI_METRICS_ALLOW_IPS: 'loopback' }), /allowIps/);
  assert.throws(() => loadConfig({}, { TUTTI_METRICS_TOKEN: 'short' }), /metrics\.token/);
  assert.throws(() => loadConfig({}, { TUTTI_SERVER_DRAIN_GRACE_SECONDS: '-1' }), /drainGrace/);
});

test('admin, webhooks and allowed origins: env names, lists, and a secret required with urls', () => {
  const d = loadConfig({}, {});
  assert.deepEqual(d.admin.allowIps, ['127.0.0.0/8', '::1/128']);
  assert.deepEqual(d.webhooks.urls, []);
  const c = loadConfig(
    {},
    {
      TUTTI_ADMIN_ALLOW_IPS: '10.0.0.0/8, 192.168.1.7',
      TUTTI_WEBHOOK_URLS: 'https://hooks.example/a,http://10.0.0.2:8080/b',
      TUTTI_WEBHOOK_SECRET: 'sixteen chars or more',
      TUTTI_SIGNALING_ALLOWED_ORIGINS: 'http://localhost:5173',
    },
  );
  assert.deepEqual(c.admin.allowIps, ['10.0.0.0/8', '192.168.1.7']);
  assert.deepEqual(c.webhooks.urls, ['https://hooks.example/a', 'http://10.0.0.2:8080/b']);
  assert.equal(c.webhooks.secret, 'sixteen chars or more');
  assert.deepEqual(c.signaling.allowedOrigins, ['http://localhost:5173']);
  // The path-derived names work too, and win.
  const w = loadConfig(
    {},
    {
      TUTTI_WEBHOOKS_URLS: 'https://x.example/h',
      TUTTI_WEBHOOK_URLS: 'https://y.example/h',
      TUTTI_WEBHOOK_SECRET: 'sixteen chars or more',
    },
  );
  assert.deepEqual(w.webhooks.urls, ['https://x.example/h']);
  assert.throws(
    () => loadConfig({}, { TUTTI_WEBHOOK_URLS: 'https://hooks.example/a' }),
    /webhooks\.secret/,
  );
  assert.throws(() => loadConfig({}, { TUTTI_ADMIN_ALLOW_IPS: 'not-an-ip' }), /admin\.allowIps/);
  assert.throws(
    () =>
      loadConfig(
        {},
        { TUTTI_WEBHOOK_URLS: 'ftp://x', TUTTI_WEBHOOK_SECRET: 'sixteen chars or more' },
      ),
    /webhooks\.urls/,
  );
});

test('chat: the bus cork (on by default) and the opt-in trace directory by environment', () => {
  const c = loadConfig({}, {});
  assert.equal(c.chat.coalesceBusWrites, true);
  assert.equal(c.chat.traceDir, undefined);
  const b = loadConfig(
    {},
    { TUTTI_CHAT_COALESCE_BUS_WRITES: 'false', TUTTI_CHAT_TRACE_DIR: '/tmp/trace' },
  );
  assert.equal(b.chat.coalesceBusWrites, false);
  assert.equal(b.chat.traceDir, '/tmp/trace');
});
