import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  announced,
  listed,
  OriginClock,
  OriginView,
} from '../../src/federation/announcementOrder.ts';

// The edge applies what an origin says of a producer only if it is newer than what it applied
// (docs/cluster.md, "Ordering"): a stale list never undoes an announcement that overtook it.

test('a list made before an announcement does not undo it; one made after does apply', () => {
  const clock = new OriginClock();
  const view = new OriginView();
  const stale = clock.now(); // The list is made…
  const opened = clock.next(); // …then a producer opens and its announcement overtakes the answer.
  assert.equal(view.take('p', announced(opened), true), true);
  assert.equal(view.closed('p', listed(stale)), false, 'not closed by the stale list');
  assert.equal(view.take('p', listed(clock.now()), false), true, 'a newer list applies');
});

test('an announcement older than a list is stale; the same list twice applies twice', () => {
  const clock = new OriginClock();
  const view = new OriginView();
  const paused = clock.next();
  const list = clock.now();
  assert.equal(view.take('p', listed(list), true), true);
  assert.equal(view.take('p', announced(paused), true), false, 'shown by the list already');
  assert.equal(view.take('p', listed(list), true), true, 'an origin with nothing new');
  assert.equal(view.take('p', announced(clock.next()), true), true);
});

test('a close always applies and keeps an older list from reopening, until a later list', () => {
  const clock = new OriginClock();
  const view = new OriginView();
  const old = clock.now();
  assert.equal(view.take('p', listed(clock.now()), true), true);
  assert.equal(view.closed('p', announced(clock.next())), true);
  assert.equal(view.take('p', listed(old), true), false, 'the old list names it: not reopened');
  const later = clock.now();
  view.prune(later);
  // Forgotten once a list made after the close was applied (none made later names it).
  assert.equal(view.take('p', listed(old), true), true);
});

test('a new process of the origin (another epoch) starts afresh', () => {
  const view = new OriginView();
  const first = new OriginClock();
  for (let i = 0; i < 5; i++) first.next();
  assert.equal(view.take('p', announced(first.next()), true), true);
  const restarted = new OriginClock();
  assert.equal(view.take('p', listed(restarted.now()), false), true);
});
