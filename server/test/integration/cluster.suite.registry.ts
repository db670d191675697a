import { it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeRegistry, type ClusterError, type NodeInfo } from '../../src/cluster/index.ts';
import {
  captureLog,
  selfInfo,
  TIMING,
  until,
  type ContractFixture,
} from '../helpers/clusterContract.ts';

/** The registry part of the cluster contract: joins, leaves, restarts, bad entries. */
export function registryContract({ setup, track }: ContractFixture): void {
  it('nodes see each other join, update and leave (graceful and by expiry)', async () => {
    const { env, a, b, id, make } = await setup();
    await until('a sees b', () => a.registry.get(b.nodeId) !== undefined);
    assert.equal(a.registry.healthy, true);
    assert.deepEqual(a.registry.get(b.nodeId)?.load, {
      cpu: 0.25,
      routers: 1,
      consumers: 2,
      peers: 3,
    });
    assert.equal(a.registry.get(b.nodeId)?.httpUrl, `http://${b.nodeId}.test:3000`);

    const updated: NodeInfo[] = [];
    a.registry.on('nodeUpdated', (info) => updated.push(info));
    b.registry.setDraining(true);
    await until('a sees b draining', () => updated.some((i) => i.draining));

    const joined: string[] = [];
    const left: string[] = [];
    a.registry.on('nodeJoined', (info) => joined.push(info.nodeId));
    a.registry.on('nodeLeft', (nodeId) => void left.push(nodeId));
    const c = await make('c');
    await until('a sees c join', () => joined.includes(c.nodeId));
    await c.stop();
    await until('a sees c leave', () => left.includes(c.nodeId), 1000);

    // A node that beats once and then "crashes": gone after expiryMs, its seats released.
    const crashed = new NodeRegistry(env.store(), {
      self: selfInfo(`dead-${id}`),
      load: () => ({ cpu: 0, routers: 0, consumers: 0, peers: 0 }),
      log: captureLog(),
      ...TIMING,
    });
    await crashed.tick();
    await until('a sees the crashed node', () => joined.includes(`dead-${id}`));
    // A request in flight to it (it listens but never answers) fails when it is declared
    // gone, long before its timeout.
    await env.listenRaw(`dead-${id}`, () => {});
    const inFlight = a.rpc
      .request(`dead-${id}`, 'echo', { text: 'x' }, { timeoutMs: 10_000 })
      .catch((err: unknown) => err);
    const room = `room-${id}`;
    assert.equal((await a.placement.reserve(room, 'm1', `dead-${id}`, 5)).ok, true);
    assert.equal((await a.placement.reserve(room, 'm2', a.nodeId, 5)).ok, true);
    const declaredAt = Date.now();
    await until('a declares it gone', () => left.includes(`dead-${id}`), 3000);
    assert.ok(Date.now() - declaredAt < TIMING.expiryMs + 4 * TIMING.heartbeatMs + 500);
    await until('its seats released', async () => (await b.placement.spread(room)).count === 1);
    assert.deepEqual((await b.placement.spread(room)).nodes, { [a.nodeId]: 1 });
    await until('b sees it gone too', () => b.registry.get(`dead-${id}`) === undefined, 1000);
    assert.equal(((await inFlight) as ClusterError).failure, 'UNAVAILABLE');
  });

  it('a registry started again after a stop beats on refresh() (a frozen node thawed)', async () => {
    const { env, id } = await setup();
    const store = env.store();
    const nodeId = `thawed-${id}`;
    // Beats only when asked: no timer tick can stand in for refresh().
    const node = new NodeRegistry(store, {
      self: selfInfo(nodeId),
      load: () => ({ cpu: 0, routers: 0, consumers: 0, peers: 0 }),
      log: captureLog(),
      heartbeatMs: 600_000,
      expiryMs: 1_200_000,
    });
    await node.start();
    await node.stop();
    await node.start();
    try {
      await store.remove(nodeId);
      await node.refresh();
      const listed = (await store.scan()).some((e) => e.nodeId === nodeId);
      assert.ok(listed, 'refresh() beat again after the restart');
    } finally {
      await node.stop();
    }
  });

  it('a node back under the same id: others see it restart, its old seats are cleared', async () => {
    const { env, a, id } = await setup();
    const nodeId = `phoenix-${id}`;
    const old = new NodeRegistry(env.store(), {
      self: selfInfo(nodeId),
      load: () => ({ cpu: 0, routers: 0, consumers: 0, peers: 0 }),
      log: captureLog(),
      ...TIMING,
    });
    await old.tick(); // beats once, then "crashes"
    await until('a sees it', () => a.registry.get(nodeId) !== undefined);
    const room = `phoenix-room-${id}`;
    await a.placement.reserve(room, 'ghost', nodeId, 5);
    const restarted: number[] = [];
    a.registry.on('nodeRestarted', (info, previous) => {
      assert.ok(info.startedAt > previous.startedAt);
      restarted.push(info.startedAt);
    });
    await sleep(5);
    const log = captureLog();
    const reborn = env.node(nodeId, log);
    track(reborn);
    await reborn.start();
    assert.equal((await a.placement.spread(room)).count, 0, 'the crashed process’s seats');
    await until('a sees the restart', () => restarted.length === 1);

    // A second live process with the same id is reported (it keeps overwriting the entry).
    await old.tick();
    await reborn.registry.tick();
    assert.ok(
      log.lines.some(
        (l) => l.level === 'error' && /another process uses this node id/.test(l.msg ?? ''),
      ),
    );
  });

  it('forged or malformed registry entries are dropped, not listed', async () => {
    const log = captureLog();
    const { env, a, b, id } = await setup({ a: log });
    await env.putEntry(`junk-${id}`, '{not json');
    await env.putEntry(`shape-${id}`, JSON.stringify({ nodeId: `shape-${id}`, load: 'x' }));
    const impostor = {
      ...selfInfo(`other-${id}`),
      load: { cpu: 0, routers: 0, consumers: 0, peers: 0 },
    };
    await env.putEntry(
      `liar-${id}`,
      JSON.stringify({ ...impostor, draining: false, startedAt: 1 }),
    );
    await a.registry.tick();
    const ids = a.registry.nodes().map((n) => n.nodeId);
    assert.ok(ids.includes(b.nodeId) && ids.includes(a.nodeId));
    for (const bad of ['junk', 'shape', 'liar', 'other']) assert.ok(!ids.includes(`${bad}-${id}`));
    assert.ok(log.lines.some((l) => l.msg === 'cluster: dropped a bus message'));
  });
}
