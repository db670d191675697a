import type {
  Consumer,
  ConsumerLayers,
  Producer,
  TransportTraceEventData,
  WebRtcTransport,
} from 'mediasoup/types';
import type { Logger } from '../kernel/log.ts';
import {
  EstimatePeak,
  FREE_DOWNLINK,
  holdLayers,
  type HoldState,
  type LayerRates,
} from './downlinkLayers.ts';

/**
 * A receive transport's layer guard (issue 10, the decisions in downlinkLayers.ts): when its
 * estimate drops under what it forwards, every simulcast/SVC consumer on it is held to a
 * layer with room to spare (asked for at once, so the lower layer's key frame is requested
 * now), until the estimate has covered all its consumers want for a while; the hold climbs
 * back one layer at a time, then they get the layers the client asked for again. The
 * client's wish goes through preferLayers().
 */

interface Watched {
  consumer: Consumer;
  producer: Producer;
  /** What the client asked for (or mediasoup's default: the highest). */
  wish: ConsumerLayers;
  /** The spatial layer it is held to while congested (undefined: not held). */
  held: number | undefined;
}

interface Guard {
  log: Logger;
  watched: Map<string, Watched>;
  peak: EstimatePeak;
  state: HoldState;
  busy: boolean;
}

const guards = new WeakMap<WebRtcTransport, Guard>();
const byConsumer = new WeakMap<Consumer, Watched>();

/** The rate of each spatial layer of a producer (its stats name a stream by ssrc or rid). */
async function layerRates(producer: Producer): Promise<LayerRates> {
  const stats = await producer.getStats();
  return (
    producer.rtpParameters.encodings?.map((e) => {
      const s = stats.find(
        (x) => (e.ssrc !== undefined && x.ssrc === e.ssrc) || (e.rid && x.rid === e.rid),
      );
      return s?.bitrate ?? 0;
    }) ?? []
  );
}

interface BweReading {
  at: number;
  available: number;
  desired: number;
}

function bweReading(trace: TransportTraceEventData): BweReading | undefined {
  if (trace.type !== 'bwe') return undefined;
  const info = trace.info as { availableBitrate?: unknown; desiredBitrate?: unknown };
  const available = Number(info.availableBitrate);
  const desired = Number(info.desiredBitrate);
  if (!Number.isFinite(available) || !Number.isFinite(desired)) return undefined;
  return { at: Date.now(), available, desired };
}

async function setLayers(w: Watched, layers: ConsumerLayers): Promise<void> {
  if (w.consumer.closed) return;
  await w.consumer.setPreferredLayers(layers).catch(() => undefined);
}

/** Consumers the client asked to pause (a hidden tile): a drain must not resume them. */
const askedPaused = new WeakSet<Consumer>();

/** The client's pause/resume of a consumer (what a drain leaves alone). */
export async function pauseAsAsked(consumer: Consumer, paused: boolean): Promise<void> {
  if (paused) askedPaused.add(consumer);
  else askedPaused.delete(consumer);
  await (paused ? consumer.pause() : consumer.resume());
}

/**
 * Stops forwarding the layer it is on at once, not when the held layer's key frame comes
 * (a pause, then a resume: mediasoup then waits for that key frame), and clears its
 * retransmission buffer with the pause: the old layer's packets lost in the full link are
 * no longer resent into it (measured: they kept the link full and the page frozen 2-3 s).
 */
async function drain(w: Watched): Promise<void> {
  const c = w.consumer;
  if (c.paused || c.closed) return;
  await c.pause();
  if (!askedPaused.has(c) && !c.closed) await c.resume();
}

/** Holds (or lets go) each consumer per the reading. */
async function react(g: Guard, r: BweReading): Promise<void> {
  const sharpDrop = g.peak.sharpDrop(r.at, r.available);
  if (!g.state.congested && !sharpDrop) return;
  const all = [...g.watched.values()].filter((w) => !w.consumer.closed && !w.consumer.paused);
  // One stats request per producer per pass, however many of its consumers are here.
  const rates = new Map<string, Promise<LayerRates>>();
  const ratesOf = (p: Producer) => {
    let r = rates.get(p.id);
    if (!r) rates.set(p.id, (r = layerRates(p).catch((): LayerRates => [])));
    return r;
  };
  const views = await Promise.all(
    all.map(async (w) => ({
      rates: await ratesOf(w.producer),
      current: w.consumer.currentLayers?.spatialLayer,
      wish: w.wish.spatialLayer,
      held: w.held,
    })),
  );
  const hold = holdLayers(views, r, g.state, sharpDrop);
  if (hold.congested !== g.state.congested) {
    g.log.info(
      { available: r.available, desired: r.desired, held: hold.held },
      hold.congested ? 'downlink congested: lower layers held' : 'downlink recovered',
    );
  }
  g.state = hold;
  // A paused one (a hidden tile) is neither counted nor held, but let go with the others.
  const rest = [...g.watched.values()].filter((w) => !all.includes(w) && w.held !== undefined);
  const moves = [...all.map((w, i) => [w, hold.held[i]] as const)];
  if (!hold.congested) moves.push(...rest.map((w) => [w, undefined] as const));
  await Promise.all(moves.map(([w, held]) => hold1(w, held)));
}

/** Holds a consumer to `held` (undefined: lets it go to the client's wish). */
async function hold1(w: Watched, held: number | undefined): Promise<void> {
  if (held === w.held) return;
  w.held = held;
  await setLayers(w, held === undefined ? w.wish : { ...w.wish, spatialLayer: held });
  const current = w.consumer.currentLayers?.spatialLayer;
  if (held !== undefined && current !== undefined && current > held) await drain(w);
}

/** Guards a receive transport (its consumers are watched as they are made). */
export function guardDownlink(transport: WebRtcTransport, log: Logger): void {
  const g: Guard = {
    log,
    watched: new Map(),
    peak: new EstimatePeak(),
    state: FREE_DOWNLINK,
    busy: false,
  };
  guards.set(transport, g);
  // One pass at a time; a reading that comes meanwhile waits (only the newest).
  let pending: BweReading | undefined;
  const run = (r: BweReading) => {
    g.busy = true;
    react(g, r)
      .catch((err: unknown) => log.debug({ err }, 'downlink guard'))
      .finally(() => {
        g.busy = false;
        const next = pending;
        pending = undefined;
        if (next && !transport.closed) run(next);
      });
  };
  transport.on('trace', (trace) => {
    const r = bweReading(trace);
    if (!r || transport.closed) return;
    if (g.busy) pending = r;
    else run(r);
  });
  void transport.enableTraceEvent(['bwe']).catch(() => undefined);
}

/** A new consumer on a guarded transport (of `producer`, maybe a pipe of the origin). */
export function watchConsumer(
  transport: WebRtcTransport,
  consumer: Consumer,
  producer: Producer,
): void {
  const g = guards.get(transport);
  if (!g || consumer.kind !== 'video' || consumer.type === 'simple' || consumer.type === 'pipe')
    return;
  const wish = consumer.preferredLayers ?? { spatialLayer: 255 };
  const w: Watched = { consumer, producer, wish, held: undefined };
  g.watched.set(consumer.id, w);
  byConsumer.set(consumer, w);
  consumer.observer.once('close', () => g.watched.delete(consumer.id));
}

/** The client's wish for a consumer's layers: applied now, or once its link is not congested. */
export async function preferLayers(consumer: Consumer, layers: ConsumerLayers): Promise<void> {
  const w = byConsumer.get(consumer);
  if (w) w.wish = layers;
  const held = w?.held;
  const spatialLayer =
    held === undefined ? layers.spatialLayer : Math.min(held, layers.spatialLayer);
  await consumer.setPreferredLayers({ ...layers, spatialLayer });
}
