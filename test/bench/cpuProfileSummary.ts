import { readFileSync } from 'node:fs';

/**
 * Self time per function of a V8 CPU profile (.cpuprofile), as shares of the non-idle
 * samples: `node test/bench/cpuProfileSummary.ts FILE [TOP]`. Also used by bench:chat to
 * print the top of its measured-phase profile.
 */

interface ProfileNode {
  id: number;
  hitCount?: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
}

export function summarizeProfile(profile: unknown, top = 20): string[] {
  const p = profile as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const counts = new Map<number, number>();
  for (const s of p.samples ?? []) counts.set(s, (counts.get(s) ?? 0) + 1);
  const self = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, count] of counts) {
    const f = byId.get(id)?.callFrame;
    if (!f) continue;
    total += count;
    if (f.functionName === '(idle)') {
      idle += count;
      continue;
    }
    const where = f.url ? ` ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}${where}`;
    self.set(key, (self.get(key) ?? 0) + count);
  }
  const busy = Math.max(1, total - idle);
  return [
    `${total} samples, ${((100 * idle) / Math.max(1, total)).toFixed(1)} % idle; self time, share of the busy samples:`,
    ...[...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, count]) => `${((100 * count) / busy).toFixed(1).padStart(5)} %  ${key}`),
  ];
}

if (import.meta.main) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpuProfileSummary.ts FILE [TOP]');
  const profile: unknown = JSON.parse(readFileSync(file, 'utf8'));
  for (const line of summarizeProfile(profile, Number(top ?? 30))) console.log(line);
}
