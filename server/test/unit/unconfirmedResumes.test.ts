/**
 * The spent tokens a lost resume answer leaves the client with (docs/reconnect.md, "a lost
 * answer"): one per member, good until its time, stretched over the grace by a drop within
 * it, dead after it, after a confirm and when a newer one is spent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnconfirmedResumes } from '../../src/transport/unconfirmedResumes.ts';

test('a spent token: one per member, stretched by a drop in time, dead after its time', () => {
  const u = new UnconfirmedResumes();
  u.spent('h1', { memberId: 'm', until: 1000, media: 'kept' });
  assert.equal(u.find('h1')?.memberId, 'm');
  // A newer resume of the same member replaces it.
  u.spent('h2', { memberId: 'm', until: 2000, media: 'rebuild' });
  assert.equal(u.find('h1'), undefined);
  assert.equal(u.find('h2')?.media, 'rebuild');
  // Dropped within its time: good to the end of the grace that drop began.
  u.detached('m', 1900, 15_000);
  assert.equal(u.find('h2')?.until, 16_900);
  // A later drop never shortens it.
  u.detached('m', 1950, 100);
  assert.equal(u.find('h2')?.until, 16_900);
  // Confirmed: dead.
  u.forget('m');
  assert.equal(u.find('h2'), undefined);
  // Dropped after its time (a client that never confirmed): dead, not revived by the grace.
  u.spent('h3', { memberId: 'n', until: 1000, media: 'kept' });
  u.detached('n', 1000, 15_000);
  assert.equal(u.find('h3'), undefined);
  // Another member's is its own.
  u.spent('h4', { memberId: 'o', until: 1000, media: 'kept' });
  u.forget('m');
  assert.equal(u.find('h4')?.memberId, 'o');
});
