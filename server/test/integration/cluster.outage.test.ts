import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ClusterError, createCluster } from '../../src/cluster/index.ts';
import { silentLogger } from '../../src/kernel/log.ts';
import { eventually as retry } from '../../../test/helpers/waits.ts';
import { selfInfo, testMethods, withHandlers, type TestCluster } from './cluster.suite.ts';

// Redis frozen (SIGSTOP), then killed and started again, under two running nodes. This test
// runs its own redis-server on a free port: the machine's shared Redis is never touched.

let port = 0;
let server: ChildProcess | undefined;
const nodes: TestCluster[] = [];
const events: string[] = [];

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function startRedis(): Promise<void> {
  server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
  });
  probe.on('error', () => {}); // refused until the server is up: expected
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return;
    } catch {
      await sleep(50);
    }
  }
  probe.disconnect();
  throw new Error('redis-server did not start');
}

async function stopRedis(): Promise<void> {
  const child = server;
  server = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGCONT');
  child.kill('SIGKILL');
  await exited;
}

/** Retries `fn` (every 100 ms) until it resolves, at most `ms`. */
const eventually = <T>(what: string, fn: () => Promise<T>, ms = 8000): Promise<T> =>
  retry(what, fn, ms, 100);

/** Resolves the error a promise rejected with, failing if it resolved or took over `ms`. */
async function failsWithin(p: Promise<unknown>, ms: number): Promise<ClusterError> {
  const started = Date.now();
  const err = await p.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(Date.now() - started <= ms, `took ${Date.now() - started} ms (limit ${ms})`);
  assert.ok(err instanceof ClusterError || err instanceof Error);
  return err as ClusterError;
}

before(async () => {
  port = await freePort();
  await startRedis();
  for (const name of ['a', 'b']) {
    const node = makeNode(name);
    node.registry.on('nodeLeft', (id) => void events.push(`${name} saw ${id} leave`));
    node.registry.on('selfReinstated', () => void events.push(`${name} reinstated`));
    await node.start();
    nodes.push(node);
  }
});

const prefix = `tutti-test:outage:${randomUUID()}:`;
function makeNode(name: string): TestCluster {
  return withHandlers(
    createCluster({
      ...selfInfo(`${name}-outage`),
      load: () => ({ cpu: 0, routers: 0, consumers: 0, peers: 0 }),
      methods: testMethods,
      log: silentLogger,
      heartbeatMs: 200,
      expiryMs: 1000,
      redis: { url: `redis://127.0.0.1:${port}`, prefix, commandTimeoutMs: 300 },
    }),
  );
}

after(async () => {
  await Promise.allSettled(nodes.map((n) => n.stop()));
  await stopRedis();
});

it('Redis frozen: requests fail within their timeout; thawed: everything works again', async () => {
  const [a, b] = nodes as [TestCluster, TestCluster];
  await eventually('a sees b', async () => assert.ok(a.registry.get(b.nodeId)));
  assert.equal((await a.rpc.request(b.nodeId, 'echo', { text: 'before' })).by, b.nodeId);
  assert.equal((await a.placement.reserve('room', 'm1', a.nodeId, 2)).ok, true);

  server!.kill('SIGSTOP');
  try {
    await failsWithin(a.rpc.request(b.nodeId, 'echo', { text: 'x' }, { timeoutMs: 1500 }), 1700);
    await failsWithin(a.placement.reserve('room', 'm2', a.nodeId, 2), 800);
    await failsWithin(b.placement.rooms(), 800);
    await sleep(1500); // well past expiryMs: nobody may be declared gone for Redis's silence
    await a.registry.tick();
    assert.equal(a.registry.healthy, false);
  } finally {
    server!.kill('SIGCONT');
  }
  assert.equal(
    (await eventually('rpc', () => a.rpc.request(b.nodeId, 'echo', { text: 'after' }))).text,
    'after',
  );
  assert.equal((await a.placement.reserve('room', 'm2', b.nodeId, 2)).ok, true);
  assert.equal((await b.placement.reserve('room', 'm3', b.nodeId, 2)).ok, false, 'capacity held');
  await sleep(1200);
  assert.equal(a.registry.healthy, true);
  assert.deepEqual(events, [], 'a Redis outage is not a node failure');
});

it('Redis killed and restarted empty: fail fast, then subscriptions and entries come back', async () => {
  const [a, b] = nodes as [TestCluster, TestCluster];
  await stopRedis();
  const err = await failsWithin(a.rpc.request(b.nodeId, 'echo', { text: 'x' }), 500);
  assert.equal(err.failure, 'UNAVAILABLE');
  await failsWithin(b.placement.spread('room'), 500);
  // A node starting while Redis is down starts anyway (and joins once Redis is back).
  const c = makeNode('c');
  nodes.push(c);
  const t0 = Date.now();
  await c.start();
  assert.ok(Date.now() - t0 < 5000, 'start does not hang on a dead Redis');
  assert.equal(c.registry.healthy, false);

  await startRedis();
  assert.equal(
    (await eventually('rpc a→c', () => a.rpc.request(c.nodeId, 'echo', { text: 'hi c' }))).by,
    c.nodeId,
  );
  assert.equal(
    (await eventually('rpc a→b', () => a.rpc.request(b.nodeId, 'echo', { text: 'back' }))).by,
    b.nodeId,
  );
  assert.equal(
    (await eventually('rpc b→a', () => b.rpc.request(a.nodeId, 'echo', { text: 'back' }))).by,
    a.nodeId,
  );
  await eventually('both reinstated', async () =>
    assert.deepEqual(events.filter((e) => e.endsWith('reinstated')).sort(), [
      'a reinstated',
      'b reinstated',
    ]),
  );
  await sleep(1200);
  assert.ok(a.registry.get(b.nodeId) && b.registry.get(a.nodeId));
  assert.deepEqual(
    events.filter((e) => e.includes('leave')),
    [],
    'no node was declared gone',
  );
});
