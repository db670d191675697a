import type { Consumer, Producer, WebRtcTransport } from 'mediasoup/types';

/**
 * TUTTI_BARE_DEBUG=1 (issue 12's instrument): the baseline logs, for every video consumer
 * whose outgoing packet count stops for ≥ STALL_MS after it flowed, what mediasoup knows of it
 * (layers, pause, score, stats, its transport's recent `bwe` readings, key frame requests to
 * and sender reports from the publisher), every sharp drop of a receive transport's estimate,
 * and how long each ramp step's joins took. Off by default: the getStats polling loads a capped
 * worker (a debug run is not a measurement).
 */
export const bareDebug = process.env.TUTTI_BARE_DEBUG === '1';

const POLL_MS = 250;
const STALL_MS = 750;
const t0 = Date.now();
/** Seconds since this module loaded: one time base for all debug lines. */
export const at = (): string => `+${((Date.now() - t0) / 1000).toFixed(2)}s`;

interface Watched {
  peerId: string;
  consumer: Consumer;
  transport: WebRtcTransport;
  producer: Producer;
  packets: number;
  changedAt: number;
  stalled: boolean;
  events: string[];
}

const watched = new Set<Watched>();
const byConsumer = new WeakMap<Consumer, Watched>();
const bwe = new WeakMap<WebRtcTransport, string[]>();
let producerKeyFrameRequests = 0;
let producerSenderReports = 0;
let timer: NodeJS.Timeout | undefined;

function note(list: string[], line: string): void {
  list.push(`${at()} ${line}`);
  if (list.length > 12) list.shift();
}

export function debugTransport(t: WebRtcTransport): void {
  if (!bareDebug) return;
  const list: string[] = [];
  bwe.set(t, list);
  let last = 0;
  t.on('trace', (tr) => {
    if (tr.type !== 'bwe') return;
    note(list, JSON.stringify(tr.info));
    const available = Number((tr.info as { availableBitrate?: unknown }).availableBitrate);
    if (last > 0 && available < 0.75 * last)
      console.log(`[bare-debug] ${at()} bwe drop ${t.id.slice(0, 8)} ${last} -> ${available}`);
    last = available;
  });
  void t.enableTraceEvent(['bwe']).catch(() => undefined);
}

export function debugProducer(p: Producer): void {
  if (!bareDebug || p.kind !== 'video') return;
  p.on('trace', (tr) => {
    if (tr.type === 'pli' || tr.type === 'fir') producerKeyFrameRequests++;
    if (tr.type === 'sr') producerSenderReports++;
  });
  void p.enableTraceEvent(['pli', 'fir', 'sr']).catch(() => undefined);
}

export function debugConsumer(
  peerId: string,
  consumer: Consumer,
  transport: WebRtcTransport,
  producer: Producer,
): void {
  if (!bareDebug || consumer.kind !== 'video') return;
  const w: Watched = {
    peerId,
    consumer,
    transport,
    producer,
    packets: 0,
    changedAt: Date.now(),
    stalled: false,
    events: [],
  };
  watched.add(w);
  byConsumer.set(consumer, w);
  consumer.observer.once('close', () => watched.delete(w));
  consumer.on('layerschange', (l) => note(w.events, `layers ${JSON.stringify(l ?? null)}`));
  consumer.on('score', (s) => note(w.events, `score ${JSON.stringify(s)}`));
  consumer.on('trace', (tr) => note(w.events, `trace ${tr.type} ${tr.direction}`));
  consumer.observer.on('pause', () => note(w.events, 'paused'));
  consumer.observer.on('resume', () => note(w.events, 'resumed'));
  void consumer.enableTraceEvent(['pli', 'fir', 'keyframe']).catch(() => undefined);
  timer ??= setInterval(() => void poll(), POLL_MS);
  timer.unref();
}

async function poll(): Promise<void> {
  await Promise.all([...watched].map((w) => check(w).catch(() => undefined)));
}

async function check(w: Watched): Promise<void> {
  const stats = await w.consumer.getStats();
  const out = stats.find((s) => s.type === 'outbound-rtp');
  const packets = out?.packetCount ?? 0;
  const now = Date.now();
  if (packets !== w.packets) {
    if (w.stalled)
      console.log(`[bare-debug] ${at()} ${w.peerId} consumer flows again (${packets})`);
    w.packets = packets;
    w.changedAt = now;
    w.stalled = false;
    return;
  }
  if (w.stalled || packets === 0 || now - w.changedAt < STALL_MS || w.consumer.closed) return;
  w.stalled = true;
  const c = w.consumer;
  const [dump, tStats, pStats] = await Promise.all([
    c.dump(),
    w.transport.getStats(),
    w.producer.getStats(),
  ]);
  const t = tStats[0];
  console.log(
    `[bare-debug] ${at()} STALL ${w.peerId} consumer ${c.id.slice(0, 8)} after ${packets} packets\n` +
      `  paused ${c.paused} producerPaused ${c.producerPaused} score ${JSON.stringify(c.score)}` +
      ` current ${JSON.stringify(c.currentLayers ?? null)} preferred ${JSON.stringify(c.preferredLayers ?? null)}\n` +
      `  dump layers ${JSON.stringify(pick(dump as unknown as Record<string, unknown>))}\n` +
      `  consumer stats ${JSON.stringify(out)}\n` +
      `  transport available ${t?.availableOutgoingBitrate} send ${t?.sendBitrate} rtpSend ${t?.rtpSendBitrate}` +
      ` probation ${t?.probationSendBitrate} maxIn ${t?.maxIncomingBitrate} minOut ${(t as { minOutgoingBitrate?: number } | undefined)?.minOutgoingBitrate}\n` +
      `  producer layers ${JSON.stringify(pStats.map((s) => ({ ssrc: s.ssrc, bitrate: s.bitrate, score: s.score, packets: s.packetCount })))}\n` +
      `  key frame requests to the publisher so far ${producerKeyFrameRequests}, sender reports from it ${producerSenderReports}\n` +
      `  events:\n    ${w.events.join('\n    ')}\n` +
      `  bwe:\n    ${(bwe.get(w.transport) ?? []).join('\n    ')}`,
  );
}

function pick(d: Record<string, unknown>): Record<string, unknown> {
  const keys = [
    'preferredSpatialLayer',
    'targetSpatialLayer',
    'currentSpatialLayer',
    'preferredTemporalLayer',
    'targetTemporalLayer',
    'currentTemporalLayer',
    'priority',
  ];
  return Object.fromEntries(keys.map((k) => [k, d[k]]));
}

/** A line in a watched consumer's recent history (what the baseline did to it). */
export function debugNote(consumer: Consumer, line: string): void {
  const w = byConsumer.get(consumer);
  if (w) note(w.events, line);
}
