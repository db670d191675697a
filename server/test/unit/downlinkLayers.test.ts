import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EstimatePeak,
  type HoldState,
  fittingLayer,
  holdLayers,
  type ConsumerView,
} from '../../src/rooms/downlinkLayers.ts';

// The layer hold of a congested downlink (issue 10; the browser test under a real cap is
// test/e2e/netcap.test.ts). Rates as a 540p camera's simulcast sends them (bit/s).
const RATES = [120_000, 330_000, 580_000];
const onTop: ConsumerView = { rates: RATES, current: 2, wish: 2 };
const FREE: HoldState = { congested: false, recovering: false, previous: 0 };
const held = (previous: number): HoldState => ({ congested: true, recovering: false, previous });
const none = (n: number) => ({
  congested: false,
  recovering: false,
  previous: 0,
  held: Array(n).fill(undefined),
});

test('fittingLayer: the highest layer up to the wish within the budget, else the lowest', () => {
  assert.equal(fittingLayer(RATES, 1_000_000, 2), 2);
  assert.equal(fittingLayer(RATES, 1_000_000, 1), 1);
  assert.equal(fittingLayer(RATES, 400_000, 2), 1);
  assert.equal(fittingLayer(RATES, 50_000, 2), 0);
  assert.equal(fittingLayer([120_000, 0, 580_000], 400_000, 2), 0, 'a layer not sent is no choice');
  assert.equal(fittingLayer([], 400_000, 2), 0);
});

test('EstimatePeak: a sharp drop is over a quarter under the peak of the last 5 s', () => {
  const p = new EstimatePeak();
  assert.equal(p.sharpDrop(0, 800_000), false);
  assert.equal(p.sharpDrop(1000, 700_000), false);
  assert.equal(p.sharpDrop(1500, 590_000), true);
  assert.equal(p.sharpDrop(7000, 590_000), false, 'the old peak is forgotten');
});

test('a 300 kbit/s cap under the top layer: held to the lowest layer at once', () => {
  const hold = holdLayers([onTop], { available: 255_000, desired: 1_200_000 }, FREE, true);
  assert.deepEqual(hold, { congested: true, recovering: false, previous: 255_000, held: [0] });
});

test('no hold without a sharp drop, or when what is forwarded still fits', () => {
  const est = { available: 255_000, desired: 1_200_000 };
  assert.deepEqual(holdLayers([onTop], est, FREE, false), none(1));
  assert.deepEqual(holdLayers([{ ...onTop, current: 0 }], est, FREE, true), none(1));
});

test('congested: held to the layer that fits, let go once the wish fits twice', () => {
  const desired = 1_200_000;
  const at = (available: number, state = held(available)) =>
    holdLayers([onTop], { available, desired }, state, false);
  assert.deepEqual(at(300_000).held, [0]);
  assert.deepEqual(at(640_000).held, [0], 'S1 does not fit half of 640, S2 not 90 %');
  const once = at(650_000);
  assert.deepEqual(once, { congested: true, recovering: true, previous: 650_000, held: [0] });
  assert.deepEqual(at(650_000, once), none(1), 'S2 fits 90 % of 650 twice: let go');
  assert.deepEqual(at(300_000, once).recovering, false);
  const covered = holdLayers([onTop], { available: 500_000, desired: 450_000 }, once, false);
  assert.equal(covered.congested, false, 'the estimate covers all they want');
});

test('the estimate is shared, and the hold rises only on two readings', () => {
  const hd: ConsumerView = { rates: [100_000, 250_000, 900_000], current: 2, wish: 2 };
  const three = [hd, hd, hd];
  const est = (available: number) => ({ available, desired: 3_600_000 });
  assert.deepEqual(holdLayers(three, est(1_200_000), held(1_200_000), false).held, [0, 0, 0]);
  const more = holdLayers(three, est(1_600_000), held(1_600_000), false);
  assert.deepEqual(more.held, [1, 1, 1], '250 kbit/s fits half of a third');
  const spike = holdLayers(three, est(1_600_000), held(1_200_000), false);
  assert.deepEqual(spike.held, [0, 0, 0], 'one high reading is not enough');
});
