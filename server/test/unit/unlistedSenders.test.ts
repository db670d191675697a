import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unlistedSenderGate } from '../../src/federation/unlistedSenders.ts';

// The gate in front of room-life events (federation/unlistedSenders.ts): a sender the registry
// does not list waits for one fresh read of it, its events in their order.

function gate(refresh: () => Promise<void>) {
  const listed = new Set<string>(['a']);
  const delivered: string[] = [];
  const dropped: string[] = [];
  let reads = 0;
  const send = unlistedSenderGate<string>({
    listed: (id) => listed.has(id),
    refresh: () => (reads++, refresh()),
    timeoutMs: 1000,
    deliver: (from, e) => void delivered.push(`${from}:${e}`),
    drop: (from, events) => void dropped.push(...events.map((e) => `${from}:${e}`)),
  });
  return { listed, delivered, dropped, send, reads: () => reads };
}

const settled = () => new Promise((r) => setImmediate(r));

test('a listed sender is delivered at once; a new one after one read, in its order', async () => {
  let scan!: () => void;
  const g = gate(() => new Promise<void>((r) => (scan = r)));
  g.send('a', '1');
  g.send('new', '1');
  g.send('new', '2');
  g.send('a', '2'); // not held up by another sender's wait
  assert.deepEqual(g.delivered, ['a:1', 'a:2']);
  assert.equal(g.reads(), 1, 'one read for the events arriving together');
  g.listed.add('new');
  scan();
  await settled();
  assert.deepEqual(g.delivered, ['a:1', 'a:2', 'new:1', 'new:2']);
  g.send('new', '3');
  assert.equal(g.delivered.at(-1), 'new:3');
});

test('still unlisted after a read: dropped, and its next events without another read', async () => {
  const g = gate(async () => {});
  g.send('gone', '1');
  await settled();
  assert.deepEqual(g.dropped, ['gone:1']);
  g.send('gone', '2');
  assert.deepEqual(g.dropped, ['gone:1', 'gone:2']);
  assert.equal(g.reads(), 1);
  g.listed.add('gone'); // a scan lists it again (reinstated)
  g.send('gone', '3');
  assert.deepEqual(g.delivered, ['gone:3']);
});

test('an unreadable registry drops what waited, but the next event reads it again', async () => {
  const g = gate(() => Promise.reject(new Error('down')));
  g.send('new', '1');
  await settled();
  assert.deepEqual(g.dropped, ['new:1']);
  g.send('new', '2');
  await settled();
  assert.equal(g.reads(), 2);
});
