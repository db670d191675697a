import { dropRedisKeys, TEST_REDIS_URL } from '../../../test/helpers/redisKeys.ts';
import { FreezableHub, startClusterApps, type ClusterApps } from './clusterApps.ts';
import { createTestSchema } from './pgSchema.ts';
import { startS3rver } from './storageS3rver.ts';

/** Nodes of one cluster in this process, and how to take all of it down. */
export interface ClusterEnv {
  apps: ClusterApps;
  /** In process: the hub (a node can be frozen on it: a death to the others). */
  hub?: FreezableHub;
  /** Redis + PostgreSQL: what a node started later joins the cluster with. */
  overrides?: Record<string, unknown>;
  redisPrefix?: string;
  close(): Promise<void>;
}

export interface ClusterEnvOptions {
  /** Names the run: Redis keys `tutti:<tag>-test-<pid>:`, the S3 bucket. */
  tag: string;
  overrides?: Record<string, unknown>;
  /** Node ids' prefix (default: startClusterApps'). */
  nodePrefix?: string;
}

/** `n` nodes on one in-process hub (records shared through one SQLite file). */
export async function inProcessCluster(n: number, opts: ClusterEnvOptions): Promise<ClusterEnv> {
  const hub = new FreezableHub();
  const apps = await startClusterApps(n, opts.overrides, {
    hub,
    ...(opts.nodePrefix && { prefix: opts.nodePrefix }),
  });
  return { apps, hub, close: () => apps.stop() };
}

/** `n` nodes on Redis + PostgreSQL, and an S3 server (the local files driver is refused). */
export async function redisPostgresCluster(
  n: number,
  opts: ClusterEnvOptions,
): Promise<ClusterEnv> {
  const redisPrefix = `tutti:${opts.tag}-test-${process.pid}:`;
  const schema = await createTestSchema();
  const s3 = await startS3rver();
  const overrides = {
    ...opts.overrides,
    redis: { url: TEST_REDIS_URL },
    database: { url: schema.url },
    files: { driver: 's3', s3: { ...s3.settings(opts.tag), createBucket: true } },
    cluster: { redisPrefix },
  };
  const apps = await startClusterApps(n, overrides, {
    ...(opts.nodePrefix && { prefix: opts.nodePrefix }),
  });
  return {
    apps,
    overrides,
    redisPrefix,
    async close() {
      await apps.stop();
      await s3.stop();
      await schema.drop();
      await dropRedisKeys(redisPrefix);
    },
  };
}
