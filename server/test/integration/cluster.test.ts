import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import { Redis } from 'ioredis';
import {
  createCluster,
  type ClusterOptions,
  LocalClusterHub,
  RedisRegistryStore,
  RedisTransport,
} from '../../src/cluster/index.ts';
import { silentLogger } from '../../src/kernel/log.ts';
import {
  CLUSTER_SECRET,
  clusterSuite,
  selfInfo,
  testMethods,
  TIMING,
  type ClusterEnv,
  type TestCluster,
} from './cluster.suite.ts';

// The same contract against the in-process hub and a real Redis (each run under its own
// key prefix, deleted afterwards).
const REDIS = process.env.TUTTI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const load = () => ({ cpu: 0.25, routers: 1, consumers: 2, peers: 3 });

function makeNode(
  nodeId: string,
  log = silentLogger,
  extra: Partial<ClusterOptions<typeof testMethods>>,
): TestCluster {
  return createCluster({
    ...selfInfo(nodeId),
    load,
    methods: testMethods,
    log,
    ...TIMING,
    secret: CLUSTER_SECRET,
    ...extra,
  });
}

clusterSuite('in process', async (): Promise<ClusterEnv> => {
  const hub = new LocalClusterHub();
  return {
    node: (nodeId, log, extra) => makeNode(nodeId, log, { ...extra, hub }),
    store: () => hub.registryStore(),
    inject: async (nodeId, raw) => void hub.inject(nodeId, raw),
    listenRaw: (nodeId, fn) => hub.transport().listen(nodeId, fn),
    putEntry: async (nodeId, raw) => hub.putEntry(nodeId, raw),
    close: async () => {},
  };
});

const prefixes: string[] = [];
const admin = new Redis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 1 });
after(async () => {
  for (const prefix of prefixes) {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
  }
  await admin.quit();
});

clusterSuite('Redis', async (): Promise<ClusterEnv> => {
  const prefix = `tutti-test:cluster:${randomUUID()}:`;
  prefixes.push(prefix);
  const settings = { url: REDIS, commandTimeoutMs: 1000 };
  const raw = new RedisTransport(admin, settings, prefix, silentLogger);
  return {
    node: (nodeId, log, extra) =>
      makeNode(nodeId, log, { ...extra, redis: { ...settings, prefix } }),
    store: () => new RedisRegistryStore(admin, prefix),
    inject: async (nodeId, message) => void (await admin.publish(raw.channel(nodeId), message)),
    listenRaw: (nodeId, fn) => raw.listen(nodeId, fn),
    putEntry: async (nodeId, message) => {
      const [seconds, micros] = await admin.time();
      await admin.zadd(
        `${prefix}nodes:seen`,
        Number(seconds) * 1000 + Math.floor(Number(micros) / 1000),
        nodeId,
      );
      await admin.hset(`${prefix}nodes:info`, nodeId, message);
    },
    close: () => raw.close(),
  };
});
