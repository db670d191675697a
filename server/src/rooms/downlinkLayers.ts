/**
 * The layer choice of a congested downlink (issue 10), apart from mediasoup so it can be
 * tested alone. mediasoup gives each consumer the highest layer whose bit rate fits the
 * estimate, with no room left: on a link that just shrank (a 300 kbit/s cap) that is a layer
 * which fills it, so its key frame (a burst several times a frame's size) and every
 * retransmission are lost in the link's queue, the viewer asks for key frames again and its
 * video stays frozen for seconds. While congested, a consumer is held to a layer that uses at
 * most HEADROOM of its share of the estimate (the lowest one if none does).
 */

/** The bit rate (bit/s) of each spatial layer of a producer, lowest first (0: not sent). */
export type LayerRates = readonly number[];

/** A drop of the estimate by more than this from its recent peak (the worker's own mark). */
export const DROP_FACTOR = 0.75;
/** The peak is the highest estimate over this long. */
export const PEAK_WINDOW_MS = 5000;
/** While congested: the share of the estimate a held layer may use. */
export const HEADROOM = 0.5;
/** No longer congested once the layers asked for fit this share of the estimate. */
export const RELEASE = 0.9;

/** The highest spatial layer, up to `wish`, whose rate fits `budget`; 0 if none does. */
export function fittingLayer(rates: LayerRates, budget: number, wish: number): number {
  let best = 0;
  for (let s = 1; s <= Math.min(wish, rates.length - 1); s++) {
    const rate = rates[s] ?? 0;
    if (rate > 0 && rate <= budget) best = s;
  }
  return best;
}

/** The rate of the layer a consumer asks for (or the highest one sent below it). */
function wishedRate(rates: LayerRates, wish: number): number {
  for (let s = Math.min(wish, rates.length - 1); s >= 0; s--)
    if ((rates[s] ?? 0) > 0) return rates[s]!;
  return 0;
}

/** While congested, a held layer rises by one spatial layer at most this often. */
export const RISE_EVERY_MS = 2000;
/** Let go only once the layers asked for have fitted the estimate for this long. */
export const RELEASE_AFTER_MS = 4000;

/** One consumer of a downlink as the choice sees it. */
export interface ConsumerView {
  rates: LayerRates;
  /** The spatial layer forwarded now (undefined: none). */
  current: number | undefined;
  /** The spatial layer the client asks for. */
  wish: number;
  /** The spatial layer it is held to now (undefined: not held). */
  held?: number | undefined;
}

export interface HoldState {
  congested: boolean;
  /**
   * Congested, and every reading since this moment (ms) found the layers asked for fitting
   * the estimate; undefined: the last one did not.
   */
  fitsSince: number | undefined;
  /** The estimate of the last reading while congested (the hold rises only on two). */
  previous: number;
  /** When the hold was taken or last rose (it rises one layer per RISE_EVERY_MS). */
  roseAt: number;
}

export interface Hold extends HoldState {
  /** Per consumer (same order): the spatial layer it is held to, undefined if not held. */
  held: (number | undefined)[];
}

export const FREE_DOWNLINK: HoldState = {
  congested: false,
  fitsSince: undefined,
  previous: 0,
  roseAt: 0,
};

/**
 * `sharpDrop`: the estimate just fell (see EstimatePeak); `at`: the reading's time (ms).
 * Not congested: it becomes so on a sharp drop to under what is forwarded, each consumer
 * held to its fitting layer at once. Congested: a hold falls at once when the estimate
 * does, but rises one spatial layer at a time, at most every RISE_EVERY_MS and only on two
 * readings that allow it; once the layers asked for fit the estimate (within RELEASE, or
 * the estimate covering `desired`), they climb toward the wish the same way, and the hold
 * lets go when every consumer is there and they have fitted for RELEASE_AFTER_MS. A probe
 * reads high for a moment: letting go on it put the top layer back into a capped link.
 */
export function holdLayers(
  views: readonly ConsumerView[],
  estimate: { available: number; desired: number; at: number },
  state: HoldState,
  sharpDrop: boolean,
): Hold {
  const { available, desired, at } = estimate;
  const share = (budget: number) => budget / Math.max(1, views.length);
  if (!state.congested) {
    const forwarded = views.reduce(
      (n, v) => n + (v.current === undefined ? 0 : (v.rates[v.current] ?? 0)),
      0,
    );
    if (!sharpDrop || forwarded <= available)
      return { ...FREE_DOWNLINK, held: views.map(() => undefined) };
    const held = views.map((v) => fittingLayer(v.rates, HEADROOM * share(available), v.wish));
    return { congested: true, fitsSince: undefined, previous: available, roseAt: at, held };
  }
  const wished = views.reduce((n, v) => n + wishedRate(v.rates, v.wish), 0);
  const fitsNow = (desired > 0 && available >= desired) || wished <= RELEASE * available;
  const fitsSince = fitsNow ? (state.fitsSince ?? at) : undefined;
  const budget = HEADROOM * share(Math.min(available, state.previous));
  const mayRise = at - state.roseAt >= RISE_EVERY_MS;
  const climbing = fitsSince !== undefined && at - fitsSince >= RISE_EVERY_MS;
  let rose = false;
  const held = views.map((v) => {
    const target = climbing
      ? fittingLayer(v.rates, Infinity, v.wish)
      : fittingLayer(v.rates, budget, v.wish);
    const now = v.held ?? target;
    if (target <= now) return target;
    if (!mayRise) return now;
    rose = true;
    return now + 1;
  });
  const atWish = views.every((v, i) => (held[i] ?? 0) >= fittingLayer(v.rates, Infinity, v.wish));
  if (fitsSince !== undefined && at - fitsSince >= RELEASE_AFTER_MS && atWish)
    return { ...FREE_DOWNLINK, held: views.map(() => undefined) };
  return {
    congested: true,
    fitsSince,
    previous: available,
    roseAt: rose ? at : state.roseAt,
    held,
  };
}

/** The recent peak of a downlink's estimate, to tell a sharp drop. */
export class EstimatePeak {
  #readings: { at: number; available: number }[] = [];

  /** Records a reading; true if it is more than a quarter under the recent peak. */
  sharpDrop(at: number, available: number): boolean {
    this.#readings = this.#readings.filter((x) => x.at > at - PEAK_WINDOW_MS);
    const peak = Math.max(0, ...this.#readings.map((x) => x.available));
    this.#readings.push({ at, available });
    return available < DROP_FACTOR * peak;
  }
}
