import { it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { TuttiError, errorCodeOf } from '@tutti/protocol';
import type { ClusterError } from '../../src/cluster/index.ts';
import {
  captureLog,
  openedRaw,
  rejection,
  signedRaw,
  until,
  withHandlers,
  type ContractFixture,
} from '../helpers/clusterContract.ts';

/** The RPC part of the cluster contract: round trips, timeouts, garbage and forgeries. */
export function rpcContract({ setup, track }: ContractFixture): void {
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
    const late = await rejection(a.rpc.request(b.nodeId, 'slow', { ms: 1000 }, { timeoutMs: 150 }));
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
    // Signed with the cluster secret (as a node that misbehaves would): every check after
    // the signature still holds.
    const envelope = (o: Record<string, unknown>) =>
      signedRaw({ v: 1, id: 'forged-1', from: a.nodeId, to: b.nodeId, ...o });
    for (const raw of [
      '{not json',
      '[]',
      'null',
      JSON.stringify({ v: 2, kind: 'req' }),
      signedRaw({ v: 2, kind: 'req' }),
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
      signedRaw({ v: 1, kind: 'ok', id, from, to: a.nodeId, data: { hacked: true } });
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
    const req = openedRaw(seen[0]!) as { id: string; from: string; method: string };
    assert.equal(req.from, a.nodeId);
    const answer = (from: string, text: string) =>
      signedRaw({
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
    const guarded = track(
      withHandlers(env.node(`guarded-${id}`, log, { acceptFrom: (from) => from === a.nodeId })),
    );
    await guarded.start();
    await Promise.all(
      Array.from({ length: 2000 }, (_, i) => env.inject(guarded.nodeId, `{not json ${i}`)),
    );
    const stranger = track(env.node(`stranger-${id}`));
    await stranger.start();
    const refused = await rejection(
      stranger.rpc.request(guarded.nodeId, 'echo', { text: 'x' }, { timeoutMs: 300 }),
    );
    assert.equal((refused as ClusterError).failure, 'TIMEOUT', 'dropped, not answered');
    assert.equal((await a.rpc.request(guarded.nodeId, 'echo', { text: 'ok' })).text, 'ok');
    const drops = log.lines.filter((l) => l.msg === 'cluster: dropped a bus message');
    assert.ok(drops.length >= 1 && drops.length <= 5, `${drops.length} log lines`);
  });
}
