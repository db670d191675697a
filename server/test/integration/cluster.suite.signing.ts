import { it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterError } from '../../src/cluster/index.ts';
import { rpcKey } from '../../src/cluster/rpcSeal.ts';
import { unseal } from '../../src/kernel/sealed.ts';
import {
  captureLog,
  dropReasons,
  openedRaw,
  rejection,
  signedRaw,
  until,
  withHandlers,
  CLUSTER_SECRET,
  type ContractFixture,
  type TestCluster,
} from '../helpers/clusterContract.ts';

/** Records what `node`'s echo handler is asked (what would have been executed). */
function countCalls(node: TestCluster): string[] {
  const calls: string[] = [];
  node.rpc.handle('echo', (data, ctx) => {
    calls.push(data.text);
    return { text: data.text, by: node.nodeId, from: ctx.from };
  });
  return calls;
}

/** The drop logger writes a line a second at most: the next reason needs a fresh second. */
const NEXT_LOG_LINE_MS = 1100;

/**
 * The signing part of the cluster contract (issue 10, defect 4, for RPC): every envelope
 * carries an HMAC from the cluster secret and its time; what anyone else publishes on a
 * node's channel is dropped and logged, never executed.
 */
export function signingContract({ setup, track }: ContractFixture): void {
  it('RPC signing: an unsigned or badly signed request is not executed, and is logged', async () => {
    const log = captureLog();
    const { env, a, b, id } = await setup({ b: log });
    const calls = countCalls(b);
    // Exactly what a node sent before envelopes were signed: well formed, from a known node.
    const request = { v: 1, kind: 'req', from: a.nodeId, to: b.nodeId, method: 'echo' };
    await env.inject(b.nodeId, JSON.stringify({ ...request, id: 'f1', data: { text: 'bare' } }));
    await until('the unsigned one is logged', () => dropReasons(log).includes('unsigned'));
    await sleep(NEXT_LOG_LINE_MS);
    const other = 'another-cluster-secret-0123456789';
    await env.inject(b.nodeId, signedRaw({ ...request, id: 'f2', data: { text: 'other' } }, other));
    await until('the foreign one is logged', () => dropReasons(log).includes('bad signature'));
    await sleep(NEXT_LOG_LINE_MS);
    // A real signature over another body: any change breaks it.
    const genuine = JSON.parse(signedRaw({ ...request, id: 'f3', data: { text: 'x' } })) as {
      m: string;
      s: string;
    };
    const tampered = genuine.m.replace('"x"', '"tampered"');
    await env.inject(b.nodeId, JSON.stringify({ m: tampered, s: genuine.s }));
    await until('the tampered one is logged', () => dropReasons(log).length === 3);
    assert.equal(dropReasons(log)[2], 'bad signature');

    // Signed with the cluster secret, it is executed, and its answer is signed too.
    const spy = `spy-${id}`;
    const answers: string[] = [];
    await env.listenRaw(spy, (raw) => answers.push(raw));
    await env.inject(
      b.nodeId,
      signedRaw({ ...request, from: spy, id: 'good', data: { text: 'signed' } }),
    );
    await until('the signed one answered', () => answers.length === 1);
    assert.deepEqual(calls, ['signed'], 'only the signed request ran');
    assert.equal(typeof unseal(answers[0]!, rpcKey(CLUSTER_SECRET)), 'object', 'a signed answer');
    assert.deepEqual(openedRaw(answers[0]!).data, { text: 'signed', by: b.nodeId, from: spy });
    assert.equal((await a.rpc.request(b.nodeId, 'echo', { text: 'real' })).from, a.nodeId);
    assert.deepEqual(calls, ['signed', 'real']);
  });

  it('RPC signing: a replayed request is dropped, while fresh (seen) and once old (stale)', async () => {
    const log = captureLog();
    const { env, a, b } = await setup({ b: log });
    const calls = countCalls(b);
    // Anyone who can subscribe on Redis can record a request as it goes by.
    const recorded: string[] = [];
    await env.listenRaw(b.nodeId, (raw) => recorded.push(raw));
    await a.rpc.request(b.nodeId, 'echo', { text: 'once' });
    await until('the request recorded', () => recorded.length === 1);
    await env.inject(b.nodeId, recorded[0]!);
    await until('the replay is logged', () => dropReasons(log).includes('replayed'));
    assert.deepEqual(calls, ['once'], 'the replay did not run');
    await sleep(NEXT_LOG_LINE_MS);
    // Signed with the right key, but a minute old: outside the replay window.
    const old = { v: 1, kind: 'req', id: 'old-1', from: a.nodeId, to: b.nodeId, method: 'echo' };
    await env.inject(
      b.nodeId,
      signedRaw({ ...old, data: { text: 'old' }, ts: Date.now() - 60_000 }),
    );
    await until('the old one is logged', () => dropReasons(log).includes('stale'));
    assert.deepEqual(calls, ['once']);

    // A node with a short window: a recording replayed after it is stale, not just seen.
    const shortLog = captureLog();
    const c = track(
      withHandlers(env.node(`short-${b.nodeId}`, shortLog, { rpcReplayWindowMs: 300 })),
    );
    const cCalls = countCalls(c);
    await c.start();
    const heard: string[] = [];
    await env.listenRaw(c.nodeId, (raw) => heard.push(raw));
    await a.rpc.request(c.nodeId, 'echo', { text: 'first' });
    await until('the request heard', () => heard.length === 1);
    await sleep(500);
    await env.inject(c.nodeId, heard[0]!);
    await until('the late replay is logged', () => dropReasons(shortLog).length === 1);
    assert.equal(dropReasons(shortLog)[0], 'stale');
    assert.deepEqual(cCalls, ['first']);
  });

  it('RPC signing: a node with another secret can neither call nor answer', async () => {
    const log = captureLog();
    const { env, a, b, id } = await setup({ b: log });
    const calls = countCalls(b);
    const otherLog = captureLog();
    const secret = 'not-the-cluster-secret-0123456789';
    const outsider = track(withHandlers(env.node(`outsider-${id}`, otherLog, { secret })));
    await outsider.start();
    const refused = await rejection(
      outsider.rpc.request(b.nodeId, 'echo', { text: 'let me in' }, { timeoutMs: 300 }),
    );
    assert.equal((refused as ClusterError).failure, 'TIMEOUT', 'dropped, not answered');
    assert.deepEqual(calls, []);
    assert.ok(dropReasons(log).includes('bad signature'));
    const unheard = await rejection(
      a.rpc.request(outsider.nodeId, 'echo', { text: 'x' }, { timeoutMs: 300 }),
    );
    assert.equal((unheard as ClusterError).failure, 'TIMEOUT');
    assert.ok(dropReasons(otherLog).includes('bad signature'));
  });
}
