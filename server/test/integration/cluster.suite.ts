import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { TuttiError, errorCodeOf } from '@tutti/protocol';
import type { Logger } from '../../src/kernel/log.ts';
import type { ClusterError } from '../../src/cluster/index.ts';
import {
  NodeRegistry,
  type Cluster,
  type ClusterOptions,
  type NodeInfo,
  type RegistryStore,
} from '../../src/cluster/index.ts';

export const testMethods = {
  echo: {
    request: z.object({ text: z.string().max(100) }),
    response: z.object({ text: z.string(), by: z.string(), from: z.string() }),
  },
  slow: { request: z.object({ ms: z.number().int().max(5000) }), response: z.object({}) },
  fail: { request: z.object({ tutti: z.boolean() }), response: z.object({}) },
  /** Its handler answers something that does not match the response schema. */
  lie: { request: z.object({}), response: z.object({ n: z.number() }) },
};
export type TestCluster = Cluster<typeof testMethods>;

/** What each implementation provides to the one suite. */
export interface ClusterEnv {
  /** A node with its own connections, sharing this env's cluster (not started). */
  node(
    nodeId: string,
    log?: Logger,
    extra?: Pick<ClusterOptions<typeof testMethods>, 'acceptFrom'>,
  ): TestCluster;
  /** A bare registry store (for a "node" that beats once and then crashes). */
  store(): RegistryStore;
  /** Puts a raw message on a node's RPC channel, bypassing every sender check. */
  inject(nodeId: string, raw: string): Promise<void>;
  /** Listens as a node without any checks: sees raw envelopes as they travel. */
  listenRaw(nodeId: string, onMessage: (raw: string) => void): Promise<void>;
  /** Writes a raw registry entry, seen just now. */
  putEntry(nodeId: string, raw: string): Promise<void>;
  close(): Promise<void>;
}

export const TIMING = { heartbeatMs: 150, expiryMs: 1000 };

export interface CapturedLog extends Logger {
  lines: { level: string; obj: Record<string, unknown>; msg: string | undefined }[];
}

export function captureLog(): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  const log: CapturedLog = {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => log,
  };
  return log;
}

export function selfInfo(nodeId: string): Pick<NodeInfo, 'nodeId' | 'httpUrl' | 'mediaAddress'> {
  return { nodeId, httpUrl: `http://${nodeId}.test:3000`, mediaAddress: '127.0.0.1' };
}

export function withHandlers(node: TestCluster): TestCluster {
  node.rpc.handle('echo', (data, ctx) => ({ text: data.text, by: node.nodeId, from: ctx.from }));
  node.rpc.handle('slow', async ({ ms }) => {
    await sleep(ms);
    return {};
  });
  node.rpc.handle('fail', ({ tutti }) => {
    if (tutti) throw new TuttiError('ROOM_FULL', 'room is full');
    throw new Error('secret internals');
  });
  node.rpc.handle('lie', () => ({ n: 'not a number' }) as unknown as { n: number });
  return node;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 3000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(20);
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Error);
    return err;
  }
  assert.fail('expected a rejection');
}

let runs = 0;

/** The one contract both implementations pass. */
export function clusterSuite(name: string, makeEnv: () => Promise<ClusterEnv>): void {
  describe(`cluster contract: ${name}`, () => {
    const envs: ClusterEnv[] = [];
    const nodes: TestCluster[] = [];
    after(async () => {
      await Promise.allSettled(nodes.map((n) => n.stop()));
      await Promise.allSettled(envs.map((e) => e.close()));
    });
    /** A fresh cluster per test: nodes a, b (started, with handlers) and the env. */
    async function setup(logs: Record<string, Logger> = {}) {
      const env = await makeEnv();
      envs.push(env);
      const id = `r${runs++}`;
      const make = async (n: string) => {
        const node = withHandlers(env.node(`${n}-${id}`, logs[n]));
        nodes.push(node);
        await node.start();
        return node;
      };
      const a = await make('a');
      const b = await make('b');
      return { env, a, b, id, make };
    }

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
      nodes.push(reborn);
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
      for (const bad of ['junk', 'shape', 'liar', 'other'])
        assert.ok(!ids.includes(`${bad}-${id}`));
      assert.ok(log.lines.some((l) => l.msg === 'cluster: dropped a bus message'));
    });

    it('RPC: a round trip, remote errors keep their code, bad requests never leave', async () => {
      const { a, b } = await setup();
      assert.deepEqual(await a.rpc.request(b.nodeId, 'echo', { text: 'hi' }), {
        text: 'hi',
        by: b.nodeId,
        from: a.nodeId,
      });
      const full = await rejection(a.rpc.request(b.nodeId, 'fail', { tutti: true }));
      assert.ok(full instanceof TuttiError);
      assert.equal(full.code, 'ROOM_FULL');
      const internal = await rejection(a.rpc.request(b.nodeId, 'fail', { tutti: false }));
      assert.equal((internal as TuttiError).code, 'INTERNAL');
      assert.ok(!internal.message.includes('secret'), 'internals stay on the remote node');
      const lie = await rejection(a.rpc.request(b.nodeId, 'lie', {}));
      assert.equal((lie as TuttiError).code, 'INTERNAL');
      const bad = await rejection(a.rpc.request(b.nodeId, 'echo', { text: 'x'.repeat(101) }));
      assert.equal((bad as ClusterError).failure, 'INVALID_REQUEST');
    });

    it('RPC: a slow answer times out, a node nobody listens as fails at once', async () => {
      const { a, b } = await setup();
      const started = Date.now();
      const late = await rejection(
        a.rpc.request(b.nodeId, 'slow', { ms: 1000 }, { timeoutMs: 150 }),
      );
      assert.equal((late as ClusterError).failure, 'TIMEOUT');
      assert.equal(errorCodeOf(new Error((late as TuttiError).reason)), 'MEDIA_UNAVAILABLE');
      assert.ok(Date.now() - started < 600, `took ${Date.now() - started} ms`);
      const t0 = Date.now();
      const nobody = await rejection(
        a.rpc.request('nobody', 'echo', { text: 'x' }, { timeoutMs: 2000 }),
      );
      assert.equal((nobody as ClusterError).failure, 'UNAVAILABLE');
      assert.ok(Date.now() - t0 < 1000);
    });

    it('RPC: malformed and forged messages are dropped and logged, never crash', async () => {
      const logA = captureLog();
      const logB = captureLog();
      const { env, a, b } = await setup({ a: logA, b: logB });
      const envelope = (o: Record<string, unknown>) =>
        JSON.stringify({ v: 1, id: 'forged-1', from: a.nodeId, to: b.nodeId, ...o });
      for (const raw of [
        '{not json',
        '[]',
        'null',
        JSON.stringify({ v: 2, kind: 'req' }),
        envelope({ kind: 'req', method: 'echo', data: { text: 'x' }, to: 'someone-else' }),
        envelope({ kind: 'req', method: '__proto__', data: {} }),
        envelope({ kind: 'req', method: 'nope', data: {} }),
        envelope({ kind: 'req', method: 'echo', data: { text: 42 } }),
        envelope({ kind: 'ok', data: { text: 'spoof' } }),
        envelope({ kind: 'err', error: { code: 1 } }),
      ])
        await env.inject(b.nodeId, raw);

      // While a real request is in flight: answers that match it in nothing (id, sender).
      const pending = a.rpc.request(b.nodeId, 'slow', { ms: 300 }, { timeoutMs: 2000 });
      await sleep(50);
      const forged = (from: string, id: string) =>
        JSON.stringify({ v: 1, kind: 'ok', id, from, to: a.nodeId, data: { hacked: true } });
      await env.inject(a.nodeId, forged('mallory', 'whatever'));
      await env.inject(a.nodeId, forged(b.nodeId, 'not-pending'));
      assert.deepEqual(await pending, {});

      await sleep(100);
      assert.deepEqual(await a.rpc.request(b.nodeId, 'echo', { text: 'still here' }), {
        text: 'still here',
        by: b.nodeId,
        from: a.nodeId,
      });
      const reasons = [...logA.lines, ...logB.lines]
        .filter((l) => l.msg === 'cluster: dropped a bus message')
        .map((l) => l.obj);
      assert.ok(reasons.length >= 2, 'drops are logged');
    });

    it('RPC: an answer with the right id from the wrong node is ignored', async () => {
      const { env, a, id } = await setup();
      // A raw listener stands in for the target, so the test sees the request's real id.
      const spy = `spy-${id}`;
      const seen: string[] = [];
      await env.listenRaw(spy, (raw) => seen.push(raw));
      const pending = a.rpc.request(spy, 'echo', { text: 'q' }, { timeoutMs: 2000 });
      await until('the spy gets the request', () => seen.length === 1);
      const req = JSON.parse(seen[0]!) as { id: string; from: string; method: string };
      assert.equal(req.from, a.nodeId);
      const answer = (from: string, text: string) =>
        JSON.stringify({
          v: 1,
          kind: 'ok',
          id: req.id,
          from,
          to: a.nodeId,
          data: { text, by: from, from: a.nodeId },
        });
      await env.inject(a.nodeId, answer(`mallory-${id}`, 'forged'));
      await env.inject(a.nodeId, answer(spy, 'real'));
      assert.equal((await pending).text, 'real');
    });

    it('RPC: a flood of garbage costs a few log lines, and acceptFrom refuses strangers', async () => {
      const log = captureLog();
      const { env, a, id } = await setup();
      const guarded = withHandlers(
        env.node(`guarded-${id}`, log, { acceptFrom: (from) => from === a.nodeId }),
      );
      nodes.push(guarded);
      await guarded.start();
      await Promise.all(
        Array.from({ length: 2000 }, (_, i) => env.inject(guarded.nodeId, `{not json ${i}`)),
      );
      const stranger = env.node(`stranger-${id}`);
      nodes.push(stranger);
      await stranger.start();
      const refused = await rejection(
        stranger.rpc.request(guarded.nodeId, 'echo', { text: 'x' }, { timeoutMs: 300 }),
      );
      assert.equal((refused as ClusterError).failure, 'TIMEOUT', 'dropped, not answered');
      assert.equal((await a.rpc.request(guarded.nodeId, 'echo', { text: 'ok' })).text, 'ok');
      const drops = log.lines.filter((l) => l.msg === 'cluster: dropped a bus message');
      assert.ok(drops.length >= 1 && drops.length <= 5, `${drops.length} log lines`);
    });

    it('seats: 50 concurrent reserves from two nodes for capacity 10 admit exactly 10', async () => {
      const { a, b, id } = await setup();
      const room = `cap-${id}`;
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 ? a : b).placement.reserve(room, `m${i}`, (i % 2 ? a : b).nodeId, 10),
        ),
      );
      assert.equal(results.filter((r) => r.ok).length, 10);
      assert.ok(results.filter((r) => !r.ok).every((r) => r.count === 10));
      const spread = await a.placement.spread(room);
      assert.equal(spread.count, 10);
      assert.equal(
        Object.values(spread.nodes).reduce((x, y) => x + y, 0),
        10,
      );

      const admitted = results.findIndex((r) => r.ok);
      assert.equal(
        (await a.placement.reserve(room, `m${admitted}`, `x`, 10)).ok,
        true,
        'a seat holder moving node keeps its seat',
      );
      assert.equal((await a.placement.reserve(room, 'late', a.nodeId, 10)).ok, false);
      assert.equal(await b.placement.release(room, `m${admitted}`), true);
      assert.equal(await b.placement.release(room, `m${admitted}`), false, 'release is idempotent');
      assert.deepEqual(await a.placement.reserve(room, 'late', a.nodeId, 10), {
        ok: true,
        count: 10,
      });
      assert.deepEqual(await a.placement.reserve(room, 'late', a.nodeId, 10), {
        ok: true,
        count: 10,
      });
    });

    it('placement: first node, hosting nodes, lobby counts, a node’s seats released at once', async () => {
      const { a, b, id } = await setup();
      const room = `place-${id}`;
      await a.placement.reserve(room, 'm1', a.nodeId, 10);
      await b.placement.reserve(room, 'm2', b.nodeId, 10);
      await b.placement.reserve(room, 'm3', b.nodeId, 10);
      assert.deepEqual(await b.placement.spread(room), {
        count: 3,
        nodes: { [a.nodeId]: 1, [b.nodeId]: 2 },
        firstNode: a.nodeId,
      });
      const lobby = (await a.placement.rooms()).find((r) => r.roomId === room);
      assert.deepEqual(lobby, { roomId: room, count: 3 });
      await a.placement.release(room, 'm1');
      assert.equal((await a.placement.spread(room)).firstNode, b.nodeId, 'first node handed on');
      assert.equal(await a.placement.releaseNode(b.nodeId), 2);
      assert.deepEqual(await a.placement.spread(room), { count: 0, nodes: {}, firstNode: null });
      assert.equal(
        (await a.placement.rooms()).find((r) => r.roomId === room),
        undefined,
      );
    });
  });
}
