import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EstimatePeak,
  FREE_DOWNLINK,
  RELEASE_AFTER_MS,
  RISE_EVERY_MS,
  type HoldState,
  fittingLayer,
  holdLayers,
  type ConsumerView,
} from '../../src/rooms/downlinkLayers.ts';

// The layer hold of a congested downlink (issue 10; the browser test under a real cap is
// test/e2e/netcap.test.ts). Rates as a 540p camera's simulcast sends them (bit/s).
const RATES = [120_000, 330_000, 580_000];
const onTop: ConsumerView = { rates: RATES, current: 2, wish: 2 };
const FREE: HoldState = FREE_DOWNLINK;
/** Congested since t = 0 (the last reading `previous`), held where the views say. */
const held = (previous: number, more: Partial<HoldState> = {}): HoldState => ({
  congested: true,
  fitsSince: undefined,
  previous,
  roseAt: 0,
  ...more,
});
const none = (n: number) => ({ ...FREE_DOWNLINK, held: Array(n).fill(undefined) });

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
  const est = { available: 255_000, desired: 1_200_000, at: 1000 };
  const hold = holdLayers([onTop], est, FREE, true);
  assert.deepEqual(hold, {
    congested: true,
    fitsSince: undefined,
    previous: 255_000,
    roseAt: 1000,
    held: [0],
  });
});

test('no hold without a sharp drop, or when what is forwarded still fits', () => {
  const est = { available: 255_000, desired: 1_200_000, at: 0 };
  assert.deepEqual(holdLayers([onTop], est, FREE, false), none(1));
  assert.deepEqual(holdLayers([{ ...onTop, current: 0 }], est, FREE, true), none(1));
});

test('a probe that reads high twice does not let go, nor lift the hold more than a layer', () => {
  const desired = 1_200_000;
  const view = { ...onTop, current: 0, held: 0 };
  // Held on S0 at t = 0; at 2.5 s two readings of 1.3 Mbit/s (a probe cluster through tbf).
  const first = holdLayers(
    [view],
    { available: 1_300_000, desired, at: 2500 },
    held(280_000),
    false,
  );
  assert.equal(first.congested, true);
  assert.deepEqual(first.held, [0], 'one high reading lifts nothing (two are needed)');
  const second = holdLayers([view], { available: 1_300_000, desired, at: 2600 }, first, false);
  assert.equal(second.congested, true, 'the old rule let go here: S2 back into the cap');
  assert.deepEqual(second.held, [1], 'one layer up, not two');
  // The estimate falls back to the cap: held on S0 at once.
  const after = holdLayers(
    [{ ...view, held: 1 }],
    { available: 280_000, desired, at: 2800 },
    second,
    false,
  );
  assert.deepEqual(after.held, [0]);
  assert.equal(after.fitsSince, undefined);
});

test('the cap lifted: the hold climbs a layer per step, then lets go once it fitted long enough', () => {
  const desired = 1_200_000;
  let state = held(280_000);
  let layer: number | undefined = 0;
  const seen: string[] = [];
  for (let at = 1000; at <= 12_000 && state.congested; at += 500) {
    const hold = holdLayers(
      [{ ...onTop, current: layer, held: layer }],
      { available: 1_500_000, desired, at },
      state,
      false,
    );
    if (hold.held[0] !== layer) seen.push(`S${hold.held[0] ?? 'free'}@${at}`);
    state = hold;
    layer = hold.held[0];
  }
  assert.equal(state.congested, false, 'let go in the end');
  // Fits from t = 1000: S1 when the 2 s rise gap allows, S2 a step later, free after 4 s.
  assert.deepEqual(seen, [
    `S1@${RISE_EVERY_MS}`,
    `S2@${2 * RISE_EVERY_MS}`,
    `Sfree@${1000 + RELEASE_AFTER_MS}`,
  ]);
});

test('congested: held to the layer that fits, which rises only on two readings', () => {
  const hd: ConsumerView = { rates: [100_000, 250_000, 900_000], current: 0, wish: 2, held: 0 };
  const three = [hd, hd, hd];
  const est = (available: number, at = 5000) => ({ available, desired: 3_600_000, at });
  assert.deepEqual(holdLayers(three, est(1_200_000), held(1_200_000), false).held, [0, 0, 0]);
  const more = holdLayers(three, est(1_600_000), held(1_600_000), false);
  assert.deepEqual(more.held, [1, 1, 1], '250 kbit/s fits half of a third');
  const spike = holdLayers(three, est(1_600_000), held(1_200_000), false);
  assert.deepEqual(spike.held, [0, 0, 0], 'one high reading is not enough');
  const soon = holdLayers(three, est(1_600_000, 1500), held(1_600_000), false);
  assert.deepEqual(soon.held, [0, 0, 0], 'not within RISE_EVERY_MS of the last rise');
  const covered = holdLayers(
    [{ ...onTop, current: 0, held: 2 }],
    { available: 500_000, desired: 450_000, at: 9000 },
    held(500_000, { fitsSince: 9000 - RELEASE_AFTER_MS }),
    false,
  );
  assert.equal(covered.congested, false, 'the estimate covers all they want, long enough');
});
