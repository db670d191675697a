/**
 * The SFU's own view of the video it forwards, for tests that run the server in-process:
 * every video consumer the server makes (through mediasoup's observer API, so call
 * trackVideoConsumers() *before* the server starts), with the layers mediasoup chose for it
 * over time ('layerschange'), its scores, and its transport (for the bandwidth estimate).
 */
import * as mediasoup from 'mediasoup';
import type { Consumer, ConsumerLayers, WebRtcTransport, Worker } from 'mediasoup/types';

/** A (spatial, temporal) pair; null: nothing forwarded (paused, or no layer fits). */
export interface Layers {
  spatial: number;
  temporal: number;
}

export interface LayerChange {
  at: number;
  layers: Layers | null;
}

export interface TrackedConsumer {
  consumer: Consumer;
  transport: WebRtcTransport;
  /** Every layer change mediasoup reported, in order. */
  changes: LayerChange[];
  scores: { at: number; score: number; producerScore: number }[];
  /** Every setPreferredLayers() the server made on it (the client's or its congestion hold). */
  preferred: { at: number; spatial: number }[];
}

export interface BweSample {
  at: number;
  /** The transport's transport-cc estimate toward the client (bit/s). */
  bwe: number;
  /** What it sent: all of it, and the probation (padding) part (bit/s). */
  sent: number;
  probation: number;
}

export interface VideoConsumerTracker {
  readonly all: TrackedConsumer[];
  /** The newest open video consumer, if any. */
  current(): TrackedConsumer | undefined;
  stop(): void;
}

function toLayers(l: ConsumerLayers | undefined): Layers | null {
  return l ? { spatial: l.spatialLayer, temporal: l.temporalLayer ?? 0 } : null;
}

/** -1, 0 or 1 as a is below, at or above b (spatial first, then temporal); null is lowest. */
export function compareLayers(a: Layers | null, b: Layers | null): number {
  if (!a || !b) return a ? 1 : b ? -1 : 0;
  return Math.sign(a.spatial - b.spatial) || Math.sign(a.temporal - b.temporal);
}

export function formatLayers(l: Layers | null | undefined): string {
  return l ? `S${l.spatial}T${l.temporal}` : 'none';
}

/** The layers of a tracked consumer now (mediasoup's currentLayers). */
export function currentLayers(t: TrackedConsumer): Layers | null {
  return toLayers(t.consumer.currentLayers);
}

/** The layers the consumer is asked for (mediasoup's preferredLayers: the tile's choice). */
export function preferredLayers(t: TrackedConsumer): Layers | null {
  return toLayers(t.consumer.preferredLayers);
}

/** The layers in force at each moment of [from, to): [{ at, until, layers }]. */
export function layerSpans(
  t: TrackedConsumer,
  from: number,
  to: number,
): { at: number; until: number; layers: Layers | null }[] {
  const before = t.changes.filter((c) => c.at <= from).at(-1);
  const inside = t.changes.filter((c) => c.at > from && c.at < to);
  const starts = [{ at: from, layers: before?.layers ?? null }, ...inside];
  return starts.map((s, i) => ({ at: s.at, until: starts[i + 1]?.at ?? to, layers: s.layers }));
}

/** One transport stats sample of the consumer's transport. */
export async function sampleBwe(t: TrackedConsumer): Promise<BweSample | undefined> {
  if (t.transport.closed) return undefined;
  const s = (await t.transport.getStats().catch(() => undefined))?.[0];
  if (!s) return undefined;
  return {
    at: Date.now(),
    bwe: s.availableOutgoingBitrate ?? 0,
    sent: s.sendBitrate,
    probation: s.probationSendBitrate,
  };
}

/** Samples the consumer's transport every intervalMs until stop() (which waits for the loop). */
export function watchBwe(
  t: TrackedConsumer,
  intervalMs = 500,
): { samples: BweSample[]; stop(): Promise<void> } {
  const samples: BweSample[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      const s = await sampleBwe(t);
      if (s) samples.push(s);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    samples,
    stop: async () => {
      on = false;
      await loop;
    },
  };
}

export function trackVideoConsumers(): VideoConsumerTracker {
  const all: TrackedConsumer[] = [];
  const onWorker = (worker: Worker) =>
    worker.observer.on('newrouter', (router) =>
      router.observer.on('newtransport', (transport) =>
        transport.observer.on('newconsumer', (consumer) => {
          if (consumer.kind !== 'video' || transport.type !== 'webrtc') return;
          const t: TrackedConsumer = {
            consumer,
            transport: transport as WebRtcTransport,
            changes: [{ at: Date.now(), layers: toLayers(consumer.currentLayers) }],
            scores: [],
            preferred: [],
          };
          all.push(t);
          const setPreferred = consumer.setPreferredLayers.bind(consumer);
          consumer.setPreferredLayers = (layers) => {
            t.preferred.push({ at: Date.now(), spatial: layers.spatialLayer });
            return setPreferred(layers);
          };
          consumer.observer.on('layerschange', (l) =>
            t.changes.push({ at: Date.now(), layers: toLayers(l) }),
          );
          consumer.observer.on('score', (s) =>
            t.scores.push({ at: Date.now(), score: s.score, producerScore: s.producerScore }),
          );
        }),
      ),
    );
  mediasoup.observer.on('newworker', onWorker);
  return {
    all,
    current: () => all.findLast((t) => !t.consumer.closed),
    stop: () => mediasoup.observer.off('newworker', onWorker),
  };
}
