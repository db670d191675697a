import { execFile } from 'node:child_process';
import type { Snapshot } from './census.ts';

/**
 * Memory over a soak: a sample every `--sample-seconds` (after a full GC in both processes),
 * then once settled, once idle and, with `--trim-probe`, once more after glibc's
 * malloc_trim(0) was called in the server's process. Heap after GC against RSS over time
 * tells a leak of JS objects (the heap climbs) from memory the allocator keeps (the heap
 * comes back, RSS does not).
 */

export type Phase = 'baseline' | 'run' | 'settled' | 'idle' | 'trimmed';

export interface Sample {
  /** Seconds since the baseline. */
  at: number;
  phase: Phase;
  bots: number;
  snapshot: Snapshot;
}

const MiB = (n: number): string => (n / (1024 * 1024)).toFixed(1);

const COLUMNS: [string, (s: Sample) => string][] = [
  ['t s', (s) => String(s.at)],
  ['phase', (s) => s.phase],
  ['bots', (s) => String(s.bots)],
  ['cons', (s) => String(s.snapshot.counts.consumers)],
  ['srv rss', (s) => MiB(s.snapshot.server.rss)],
  ['srv anon', (s) => MiB(s.snapshot.server.rssAnon)],
  ['srv heap', (s) => MiB(s.snapshot.server.heapUsed)],
  ['srv heapTot', (s) => MiB(s.snapshot.server.heapTotal)],
  ['srv ext', (s) => MiB(s.snapshot.server.external)],
  ['workers rss', (s) => MiB(s.snapshot.workerRss)],
  ['bots rss', (s) => MiB(s.snapshot.bots.rss)],
  ['bots heap', (s) => MiB(s.snapshot.bots.heapUsed)],
];

/** One line of the timeline (for printing as the soak goes). */
export function formatSample(s: Sample): string {
  return COLUMNS.map(([label, f]) => f(s).padStart(Math.max(label.length, 6))).join(' ');
}

/** The timeline's column heads. */
export function timelineHeader(): string {
  return COLUMNS.map(([label]) => label.padStart(Math.max(label.length, 6))).join(' ');
}

/** The timeline table: MiB, heap after a full GC. */
export function formatTimeline(samples: readonly Sample[]): string {
  return [timelineHeader(), ...samples.map(formatSample)].join('\n');
}

/**
 * Calls glibc's malloc_trim(0) inside a process through gdb (not reachable from JS): what
 * RSS gives back then was free memory the allocator had kept, not a leak. Resolves false
 * where gdb is missing or cannot attach (ptrace not allowed).
 */
export function mallocTrim(pid: number): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      'gdb',
      ['-p', String(pid), '-batch', '-nx', '-ex', 'call (int) malloc_trim(0)'],
      { timeout: 60_000 },
      (err, stdout) => resolve(!err && /\$1 = \d/.test(stdout)),
    );
  });
}
