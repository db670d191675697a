import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * `perf record` of one process for a few seconds (Debian's linux-perf), then the top
 * symbols by self time: where a saturated worker spends its CPU.
 */

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args[0] ?? ''}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

export async function perfTopSymbols(pid: number, seconds: number, top = 25): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tutti-perf-'));
  const data = path.join(dir, 'perf.data');
  try {
    await run(
      'perf',
      ['record', '-q', '-F', '499', '-p', String(pid), '-o', data, '--', 'sleep', String(seconds)],
      (seconds + 30) * 1000,
    );
    const report = await run(
      'perf',
      [
        'report',
        '-i',
        data,
        '--stdio',
        '--no-children',
        '--sort',
        'dso,symbol',
        '--percent-limit',
        '0.5',
      ],
      60_000,
    );
    const rows = report
      .split('\n')
      .filter((l) => /^\s+\d+\.\d+%/.test(l))
      .map((l) => l.replace(/(\s+-)+\s*$/, '').trimEnd());
    return rows.slice(0, top).join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
