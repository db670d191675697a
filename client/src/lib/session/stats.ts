import type { MediaClient } from '../media/MediaClient.ts';
import type { LocalMediaStore } from '../state/local.svelte.ts';
import type { MembersStore } from '../state/members.svelte.ts';
import type { TracksStore } from '../state/tracks.svelte.ts';

/** One line of the stats panel: a stream we send (per simulcast layer) or receive. */
export interface StatsRow {
  key: string;
  direction: 'send' | 'recv';
  who: string;
  what: string;
  kbps: number;
  lossPct: number | null;
  lost: number | null;
  resolution: string;
  fps: number | null;
  layers: string;
  score: number | null;
  note: string;
}

export interface StatsSample {
  rows: StatsRow[];
  rtt: { send: number | null; recv: number | null };
}

type Stat = Record<string, unknown> & { type: string; id: string };

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function statsOf(report: RTCStatsReport): Stat[] {
  const list: Stat[] = [];
  report.forEach((s: Stat) => list.push(s));
  return list;
}

/** Reads WebRTC statistics of our producers, consumers and transports for the stats panel. */
export class StatsActions {
  constructor(
    private readonly media: MediaClient,
    private readonly tracks: TracksStore,
    private readonly members: MembersStore,
    private readonly local: LocalMediaStore,
  ) {}

  /** A sampler remembers byte counts between samples to turn them into bit rates. */
  sampler(): () => Promise<StatsSample> {
    const previous = new Map<string, { bytes: number; at: number }>();
    const rate = (key: string, bytes: number, at: number): number => {
      const prev = previous.get(key);
      previous.set(key, { bytes, at });
      if (!prev || at <= prev.at) return 0;
      return ((bytes - prev.bytes) * 8) / (at - prev.at);
    };
    return async () => {
      const rows = [...(await this.#sent(rate)), ...(await this.#received(rate))];
      return { rows, rtt: { send: await this.#rtt('send'), recv: await this.#rtt('recv') } };
    };
  }

  async #sent(rate: (key: string, bytes: number, at: number) => number): Promise<StatsRow[]> {
    const rows: StatsRow[] = [];
    for (const [source, producer] of this.media.producers) {
      if (producer.closed) continue;
      const stats = statsOf(await producer.getStats());
      const remote = stats.filter((s) => s.type === 'remote-inbound-rtp');
      for (const s of stats.filter((x) => x.type === 'outbound-rtp')) {
        const ts = num(s['timestamp']) ?? performance.now();
        const rid = typeof s['rid'] === 'string' ? s['rid'] : '';
        const ri = remote.find((r) => r['localId'] === s.id);
        const fraction = num(ri?.['fractionLost']);
        const w = num(s['frameWidth']);
        const h = num(s['frameHeight']);
        const limited = s['qualityLimitationReason'];
        rows.push({
          key: s.id,
          direction: 'send',
          who: 'you',
          what: `${source}${rid ? ` (${rid})` : ''}`,
          kbps: rate(s.id, num(s['bytesSent']) ?? 0, ts),
          lossPct: fraction === null ? null : fraction * 100,
          lost: num(ri?.['packetsLost']),
          resolution: w && h ? `${w}×${h}` : '',
          fps: num(s['framesPerSecond']),
          layers: typeof s['scalabilityMode'] === 'string' ? s['scalabilityMode'] : '',
          score: this.local.producerScores.get(producer.id) ?? null,
          note:
            typeof limited === 'string' && limited !== 'none'
              ? `limited: ${limited}`
              : producer.paused
                ? 'paused'
                : '',
        });
      }
    }
    return rows;
  }

  async #received(rate: (key: string, bytes: number, at: number) => number): Promise<StatsRow[]> {
    const rows: StatsRow[] = [];
    for (const t of this.tracks.all) {
      const consumer = this.media.consumers.get(t.consumerId);
      if (!consumer || consumer.closed) continue;
      const stats = statsOf(await consumer.getStats());
      const s = stats.find((x) => x.type === 'inbound-rtp');
      if (!s) continue;
      const ts = num(s['timestamp']) ?? performance.now();
      const lost = num(s['packetsLost']) ?? 0;
      const received = num(s['packetsReceived']) ?? 0;
      const w = num(s['frameWidth']);
      const h = num(s['frameHeight']);
      rows.push({
        key: s.id,
        direction: 'recv',
        who: this.members.peer(t.peerId)?.nickname ?? '?',
        what: `${t.source} ${t.kind}`,
        kbps: rate(s.id, num(s['bytesReceived']) ?? 0, ts),
        lossPct: received + lost > 0 ? (lost / (received + lost)) * 100 : null,
        lost,
        resolution: w && h ? `${w}×${h}` : '',
        fps: num(s['framesPerSecond']),
        layers: t.spatialLayer !== null ? `S${t.spatialLayer} T${t.temporalLayer ?? '?'}` : '',
        score: t.score,
        note: consumer.paused ? 'paused (hidden)' : t.producerPaused ? 'sender paused' : '',
      });
    }
    return rows;
  }

  async #rtt(direction: 'send' | 'recv'): Promise<number | null> {
    const t = direction === 'send' ? this.media.sendTransport : this.media.recvTransport;
    if (!t || t.closed) return null;
    const stats = statsOf(await t.getStats());
    const pair = stats.find(
      (s) => s.type === 'candidate-pair' && (s['nominated'] === true || s['selected'] === true),
    );
    const r = num(pair?.['currentRoundTripTime']);
    return r === null ? null : Math.round(r * 1000);
  }
}
