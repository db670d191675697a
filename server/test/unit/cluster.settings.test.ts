import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { loadConfig } from '@tutti/config';
import { clusterSettings } from '../../src/cluster/index.ts';

test('a single node by default: in process, named after the host, reachable on loopback', () => {
  const s = clusterSettings(loadConfig({}, {}));
  assert.equal(s.redis, undefined);
  assert.equal(s.nodeId, hostname());
  assert.equal(s.httpUrl, 'http://127.0.0.1:3000');
  assert.equal(s.mediaAddress, '127.0.0.1');
  assert.deepEqual([s.heartbeatMs, s.expiryMs, s.rpcTimeoutMs], [2000, 6000, 2000]);
});

test('the issue’s env names make a cluster node', () => {
  const env = {
    TUTTI_SERVER_HOST: '0.0.0.0',
    PORT: '3100',
    TUTTI_MEDIA_LISTEN_IP: '0.0.0.0',
    TUTTI_MEDIA_ANNOUNCED_ADDRESS: '2001:db8::7',
    TUTTI_REDIS_URL: 'redis://:pw@127.0.0.1:6379',
    TUTTI_REDIS_COMMAND_TIMEOUT_MS: '500',
    TUTTI_CLUSTER_NODE_ID: 'media-2',
  };
  const s = clusterSettings(loadConfig({}, env));
  assert.equal(s.nodeId, 'media-2');
  assert.equal(s.httpUrl, 'http://[2001:db8::7]:3100');
  assert.equal(s.mediaAddress, '2001:db8::7');
  assert.deepEqual(s.redis, {
    url: 'redis://:pw@127.0.0.1:6379',
    commandTimeoutMs: 500,
    prefix: 'tutti:cluster:',
  });
  const prefixed = clusterSettings(loadConfig({}, { ...env, TUTTI_CLUSTER_REDIS_PREFIX: 'a:b:' }));
  assert.equal(prefixed.redis?.prefix, 'a:b:');
  const advertised = clusterSettings(
    loadConfig({}, { ...env, TUTTI_CLUSTER_ADVERTISED_URL: 'http://10.0.0.2:3100' }),
  );
  assert.equal(advertised.httpUrl, 'http://10.0.0.2:3100');
});
