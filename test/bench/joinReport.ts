import { percentile } from '../load/controller.ts';

/**
 * bench:join's phase table: per phase a `p50 / p90` cell for every kind of join (path and
 * build), ms from the figure's start; phases a kind did not reach are left out of its cell.
 */
export function printPhases(
  figure: 'link' | 'click',
  labels: string[],
  runs: Record<string, number>[][],
): void {
  const start = figure === 'link' ? 'navigation' : 'click in the lobby';
  console.log(
    `\n[bench:join] ${figure}: p50 / p90 ms from ${start} (n = ${runs.map((r) => r.length).join(' / ')})`,
  );
  const cell = (rs: Record<string, number>[], phase: string): string => {
    const values = rs.map((r) => r[phase]!).filter((v) => Number.isFinite(v));
    if (values.length === 0) return '–';
    return `${percentile(values, 50).toFixed(0)} / ${percentile(values, 90).toFixed(0)}`;
  };
  const width = labels.map((l) => Math.max(14, l.length + 2));
  console.log(`  ${'phase'.padEnd(36)}${labels.map((l, k) => l.padStart(width[k]!)).join('')}`);
  const phases = new Set(runs.flatMap((rs) => rs.flatMap((r) => Object.keys(r))));
  for (const phase of phases) {
    const cells = runs.map((rs, k) => cell(rs, phase).padStart(width[k]!));
    console.log(`  ${phase.padEnd(36)}${cells.join('')}`);
  }
}
