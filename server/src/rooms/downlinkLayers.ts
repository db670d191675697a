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

/** One consumer of a downlink as the choice sees it. */
export interface ConsumerView {
  rates: LayerRates;
  /** The spatial layer forwarded now (undefined: none). */
  current: number | undefined;
  /** The spatial layer the client asks for. */
  wish: number;
}

export interface HoldState {
  congested: boolean;
  /** Congested, but the last reading already fitted (one more lets go). */
  recovering: boolean;
  /** The estimate of the last reading while congested (the hold rises only on two). */
  previous: number;
}

export interface Hold extends HoldState {
  /** Per consumer (same order): the spatial layer it is held to, undefined if not held. */
  held: (number | undefined)[];
}

/**
 * `sharpDrop`: the estimate just fell (see EstimatePeak). Not congested: it becomes so on a
 * sharp drop to under what is forwarded. Congested: each consumer is held to its fitting
 * layer, until two readings in a row find the layers asked for within RELEASE of the
 * estimate (or the estimate covering `desired`, all the consumers would take): a single
 * high reading (a probe) would let the top layer in and out again.
 */
export function holdLayers(
  views: readonly ConsumerView[],
  estimate: { available: number; desired: number },
  state: HoldState,
  sharpDrop: boolean,
): Hold {
  const none: Hold = {
    congested: false,
    recovering: false,
    previous: 0,
    held: views.map(() => undefined),
  };
  const { available, desired } = estimate;
  let recovering = false;
  if (!state.congested) {
    const forwarded = views.reduce(
      (n, v) => n + (v.current === undefined ? 0 : (v.rates[v.current] ?? 0)),
      0,
    );
    if (!sharpDrop || forwarded <= available) return none;
  } else {
    const wished = views.reduce((n, v) => n + wishedRate(v.rates, v.wish), 0);
    recovering = (desired > 0 && available >= desired) || wished <= RELEASE * available;
    if (recovering && state.recovering) return none;
  }
  const lowest = state.congested ? Math.min(available, state.previous) : available;
  const share = lowest / Math.max(1, views.length);
  const held = views.map((v) => fittingLayer(v.rates, HEADROOM * share, v.wish));
  return { congested: true, recovering, previous: available, held };
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
