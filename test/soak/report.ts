import { EXACT_COUNTS, type Snapshot } from './census.ts';
import type { SoakResult } from './soak.ts';

/** The soak's end table: every count and memory figure at baseline, peak and end. */
export function formatReport(r: SoakResult): string {
  const MiB = (n: number): string => (n / (1024 * 1024)).toFixed(1);
  const rows: [string, (s: Snapshot) => string][] = [
    ...EXACT_COUNTS.map((name): [string, (s: Snapshot) => string] => [
      name,
      (s) => String(s.counts[name]),
    ]),
    ['rss MiB (server + bots)', (s) => MiB(s.rss)],
    ['heapUsed MiB', (s) => MiB(s.heapUsed)],
    ['worker rss MiB (sum)', (s) => MiB(s.workerRss)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const col = (v: string): string => v.padStart(9);
  const lines = [
    `soak: seed ${r.seed}, ${r.seconds} s; memory ${r.gcExposed ? 'after global.gc()' : 'without --expose-gc (no forced GC)'}`,
    `${''.padEnd(width)} ${col('baseline')} ${col('peak')} ${col('end')}`,
    ...rows.map(
      ([label, f]) =>
        `${label.padEnd(width)} ${col(f(r.baseline))} ${col(f(r.peak))} ${col(f(r.end))}`,
    ),
    `actions: ${Object.entries(r.actions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `failed requests: ${
      Object.entries(r.errors)
        .map(([k, v]) => `${k} ×${v}`)
        .join(', ') || 'none'
    }`,
    `RSS bound: end ≤ baseline + ${r.rssBoundMiB} MiB (grew ${MiB(r.end.rss - r.baseline.rss)} MiB)`,
    r.failures.length === 0 ? 'PASS' : `FAIL:\n  ${r.failures.join('\n  ')}`,
  ];
  return lines.join('\n');
}
