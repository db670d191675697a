import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createCluster, NodeRegistry, RedisRegistryStore } from '../../src/cluster/index.ts';
import { dropRedisKeys, TEST_REDIS_URL } from '../../../test/helpers/redisKeys.ts';
import {
  captureLog,
  CLUSTER_SECRET,
  selfInfo,
  testMethods,
  TIMING,
  until,
  type CapturedLog,
  type TestCluster,
} from '../helpers/clusterContract.ts';

// This process's own event loop stalls (a long GC, CPU starvation on a crowded box) for
// longer than the node timeout. Every node living in it was as silent as the one judging:
// none may be declared gone for that. Real Redis, the contract suite's short timing
// (a node silent for 1 s is gone).

const prefix = `tutti:h2:stall-${process.pid}-${randomUUID().slice(0, 8)}:`;
const settings = { url: TEST_REDIS_URL, commandTimeoutMs: 1000, prefix };
const load = () => ({ cpu: 0, routers: 0, consumers: 0, peers: 0 });

/** Blocks this thread's event loop: no timer, no socket read, for `ms`. */
function stall(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* busy */
  }
}

interface Watched {
  node: TestCluster;
  log: CapturedLog;
  left: string[];
  reinstated: number;
}

const started: TestCluster[] = [];

async function startWatched(name: string): Promise<Watched> {
  const log = captureLog();
  const node = createCluster({
    ...selfInfo(`${name}-${process.pid}`),
    load,
    methods: testMethods,
    log,
    ...TIMING,
    secret: CLUSTER_SECRET,
    redis: settings,
  });
  started.push(node);
  const watched: Watched = { node, log, left: [], reinstated: 0 };
  node.registry.on('nodeLeft', (nodeId) => void watched.left.push(nodeId));
  node.registry.on('selfReinstated', () => void watched.reinstated++);
  await node.start();
  return watched;
}

const stallWarnings = (w: Watched): number =>
  w.log.lines.filter((l) => /this process stalled/.test(l.msg ?? '')).length;

describe('a stall of this process longer than the node timeout', () => {
  after(async () => {
    for (const node of started.reverse()) await node.stop().catch(() => undefined);
    await dropRedisKeys(prefix);
  });

  test('two nodes in this process: neither declares the other gone, neither is reaped', async () => {
    const a = await startWatched('stall-a');
    const b = await startWatched('stall-b');
    await until('each sees the other', () => !!a.node.registry.get(b.node.nodeId), 5000);
    await until('b sees a', () => !!b.node.registry.get(a.node.nodeId), 5000);

    // a idle, b with a heartbeat on the wire (written to Redis, its answer unread) when the
    // loop stops: after it, a's timer beats and scans before b has beaten again.
    await a.node.registry.tick();
    void b.node.registry.tick();
    stall(2.5 * TIMING.expiryMs);

    // Several windows: a wrong verdict would have been given by now.
    await new Promise((r) => setTimeout(r, 3 * TIMING.expiryMs));
    assert.deepEqual(a.left, [], 'a declared nobody gone');
    assert.deepEqual(b.left, [], 'b declared nobody gone');
    assert.equal(a.reinstated + b.reinstated, 0, 'no entry was reaped');
    assert.ok(a.node.registry.get(b.node.nodeId) && b.node.registry.get(a.node.nodeId));
    assert.ok(stallWarnings(a) >= 1, 'a noticed the stall');
  });

  test('a node that really died during the stall is still declared gone, one window later', async () => {
    const a = await startWatched('stall-c');
    const admin = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    const deadId = `stall-dead-${process.pid}`;
    try {
      const dead = new NodeRegistry(new RedisRegistryStore(admin, prefix), {
        self: selfInfo(deadId),
        load,
        log: captureLog(),
        ...TIMING,
      });
      await dead.tick(); // beats once, then "crashes"
      await until('a sees it', () => !!a.node.registry.get(deadId), 3000);
      stall(2.5 * TIMING.expiryMs);
      const woke = Date.now();
      await until('a declares it gone', () => a.left.includes(deadId), 4 * TIMING.expiryMs);
      const waited = Date.now() - woke;
      assert.ok(waited >= TIMING.expiryMs - 50, `not before one window (${waited} ms)`);
      assert.ok(stallWarnings(a) >= 1);
    } finally {
      await admin.quit();
    }
  });
});
