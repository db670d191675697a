import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busKey } from '../../src/chat/busMessage.ts';
import { RpcSeal, rpcKey } from '../../src/cluster/rpcSeal.ts';
import { presenceKey } from '../../src/federation/presenceEvents.ts';
import { seal } from '../../src/kernel/sealed.ts';

const SECRET = 'a cluster secret of 16+ chars';
const request = {
  v: 1,
  kind: 'req',
  id: 'q1',
  from: 'node-a',
  to: 'node-b',
  method: 'echo',
  data: { text: 'hi' },
} as const;

/** Why it was dropped, or 'open'. */
const outcome = (opened: ReturnType<RpcSeal['open']>): string =>
  'dropped' in opened ? opened.dropped : 'open';

/** A seal whose clock the test sets. */
function clocked(start = 1_000_000, windowMs = 30_000) {
  const clock = { now: start };
  return { clock, seal: new RpcSeal({ secret: SECRET, windowMs, now: () => clock.now }) };
}

test('a sealed envelope opens with the same secret and carries its time', () => {
  const { seal: a } = clocked();
  const { seal: b } = clocked();
  assert.deepEqual(b.open(a.seal(request)), { ...request, ts: 1_000_000 });
  const other = new RpcSeal({ secret: 'another cluster secret!!', now: () => 1_000_000 });
  assert.deepEqual(other.open(a.seal(request)), { dropped: 'bad signature' });
});

test('the RPC key is its own: a payload signed with a bus key or a file secret does not pass', () => {
  const { seal: b } = clocked();
  const body = { ...request, ts: 1_000_000 };
  for (const key of [busKey(SECRET), presenceKey(SECRET), Buffer.from(SECRET)])
    assert.deepEqual(b.open(seal(body, key)), { dropped: 'bad signature' });
  assert.deepEqual(b.open(seal(body, rpcKey(SECRET))), body);
  assert.notDeepEqual(rpcKey(SECRET), busKey(SECRET));
});

test('unsigned, garbage and signed non-envelopes are dropped with a reason', () => {
  const { seal: b } = clocked();
  assert.deepEqual(b.open(JSON.stringify({ ...request, ts: 1_000_000 })), { dropped: 'unsigned' });
  assert.deepEqual(b.open('{not json'), { dropped: 'unsigned' });
  assert.deepEqual(b.open(seal({ v: 2 }, rpcKey(SECRET))), { dropped: 'not an rpc envelope' });
  assert.deepEqual(
    b.open(seal(request, rpcKey(SECRET))),
    { dropped: 'not an rpc envelope' },
    'no ts',
  );
});

test('outside the window either way is stale; inside it a request opens once', () => {
  const { clock, seal: b } = clocked();
  const { seal: a } = clocked();
  const sent = a.seal(request);
  clock.now += 30_001;
  assert.equal(outcome(b.open(sent)), 'stale');
  clock.now = 1_000_000 - 30_001; // the sender's clock ahead of ours by more than the window
  assert.equal(outcome(b.open(sent)), 'stale');
  clock.now = 1_000_000 + 29_000;
  assert.equal(outcome(b.open(sent)), 'open', 'within the window (clocks differ a little)');
  assert.deepEqual(b.open(sent), { dropped: 'replayed', detail: { from: 'node-a' } });
  // Another id, or the same id from another node, is another request.
  assert.equal(outcome(b.open(a.seal({ ...request, id: 'q2' }))), 'open');
  assert.equal(outcome(b.open(a.seal({ ...request, from: 'node-c' }))), 'open');
  // Answers are not remembered: one settles its pending request, a second finds none.
  const answer = a.seal({ v: 1, kind: 'ok', id: 'q1', from: 'node-b', to: 'node-a', data: {} });
  assert.equal(outcome(b.open(answer)), 'open');
  assert.equal(outcome(b.open(answer)), 'open');
  // Long after, the replay is still refused (stale now, and no longer remembered).
  clock.now += 120_000;
  assert.equal(outcome(b.open(sent)), 'stale');
});
