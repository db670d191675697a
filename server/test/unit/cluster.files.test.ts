import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@tutti/config';
import { checkClusterFiles } from '../../src/federation/node.ts';

const cluster = {
  redis: { url: 'redis://127.0.0.1:6379' },
  database: { url: 'postgres://u@127.0.0.1/db' },
};

test('a cluster (Redis and PostgreSQL) refuses the local files driver with a clear error', () => {
  assert.throws(
    () => checkClusterFiles(loadConfig(cluster, {})),
    /files.driver "local" cannot serve a cluster.*TUTTI_FILES_DRIVER=s3/,
  );
  checkClusterFiles(loadConfig({ ...cluster, files: { driver: 's3' } }, {}));
  // Redis alone (chat fan-out, one node's records) keeps the local driver.
  checkClusterFiles(loadConfig({ redis: cluster.redis }, {}));
  checkClusterFiles(loadConfig({ database: cluster.database }, {}));
});
