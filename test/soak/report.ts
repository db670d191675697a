import { EXACT_COUNTS, type Snapshot } from './census.ts';
import type { SoakResult } from './soak.ts';
import { formatTimeline } from './timeline.ts';

/** The soak's end table: every count and memory figure at baseline, peak and end (idle). */
export function formatReport(r: SoakResult): string {
  const MiB = (n: number): string => (n / (1024 * 1024)).toFixed(1);
  const rows: [string, (s: Snapshot) => string][] = [
    ...EXACT_COUNTS.map((name): [string, (s: Snapshot) => string] => [
      name,
      (s) => String(s.counts[name]),
    ]),
    ['server rss MiB', (s) => MiB(s.server.rss)],
    ['server rss anon MiB', (s) => MiB(s.server.rssAnon)],
    ['server heapUsed MiB', (s) => MiB(s.server.heapUsed)],
    ['server heapTotal MiB', (s) => MiB(s.server.heapTotal)],
    ['server external MiB', (s) => MiB(s.server.external)],
    ['workers rss MiB (sum)', (s) => MiB(s.workerRss)],
    ['bots process rss MiB', (s) => MiB(s.bots.rss)],
    ['bots process heapUsed MiB', (s) => MiB(s.bots.heapUsed)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const col = (v: string): string => v.padStart(9);
  const grew = (f: (s: Snapshot) => number): string => MiB(f(r.end) - f(r.baseline));
  const lines = [
    `soak: seed ${r.seed}, ${r.seconds} s; memory ${r.gcExposed ? 'after global.gc()' : 'without --expose-gc (no forced GC)'}`,
    `${''.padEnd(width)} ${col('baseline')} ${col('peak')} ${col('end')}`,
    ...rows.map(
      ([label, f]) =>
        `${label.padEnd(width)} ${col(f(r.baseline))} ${col(f(r.peak))} ${col(f(r.end))}`,
    ),
    'memory over time (MiB; heap after a full GC):',
    formatTimeline(r.timeline),
    `actions: ${Object.entries(r.actions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `failed requests: ${
      Object.entries(r.errors)
        .map(([k, v]) => `${k} ×${v}`)
        .join(', ') || 'none'
    }`,
    `server RSS bound: idle end ≤ baseline + ${r.rssBoundMiB} MiB (grew ${grew((s) => s.server.rss)} MiB;` +
      ` heap ${grew((s) => s.server.heapUsed)}, workers ${grew((s) => s.workerRss)},` +
      ` bots' process ${grew((s) => s.bots.rss)} MiB, not judged)`,
    r.failures.length === 0 ? 'PASS' : `FAIL:\n  ${r.failures.join('\n  ')}`,
  ];
  return lines.join('\n');
}
