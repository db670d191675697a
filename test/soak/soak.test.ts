import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { resolveWorkerBin } from '../../media-workers/src/index.ts';
import type { SoakResult } from './soak.ts';

/**
 * 60 s of the soak (npm run soak) inside npm test, kept light for a shared CI box: up to 8
 * bots in 2 rooms, a third of the publishers with video, at most 3 actions a second. It
 * runs in its own process (with --expose-gc; libdatachannel's threads end with it), and the
 * server in another: the RSS it judges is the server's alone. Everything must be back to its
 * baseline at the end, the idle server's RSS within its bound, no request may answer
 * INTERNAL, nothing may crash. TUTTI_SOAK_HOST picks the loopback address (127.0.0.1).
 */

/** How far the idle server's RSS may end above its baseline (docs/benchmarks.md, soak). */
const RSS_BOUND_MIB = 16;

/**
 * 60 s of soak plus start, warm-up, settle and idle: ~100 s on a quiet box, 3-4 minutes on
 * a 2-core box at load average 20-40 (2026-12-02).
 */
const KILL_AFTER_MS = 360_000;

const workerBin = resolveWorkerBin();
const skip = existsSync(workerBin)
  ? false
  : `no mediasoup worker at ${workerBin} (npm run worker:build)`;

function runCli(
  args: string[],
): Promise<{ code: number | null; out: string; result?: SoakResult }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', new URL('./cli.ts', import.meta.url).pathname, ...args, '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{"soak"'));
      const result = line ? (JSON.parse(line) as { soak: SoakResult }).soak : undefined;
      resolve({ code, out, ...(result ? { result } : {}) });
    });
  });
}

test(
  'soak: 60 s of bots joining, leaving, producing, consuming, chatting, uploading',
  { skip, timeout: KILL_AFTER_MS + 30_000 },
  async () => {
    const seed = process.env.TUTTI_SOAK_SEED ?? String(Math.floor(Math.random() * 2 ** 32));
    const r = await runCli(
      ['--seconds', '60', '--seed', seed, '--bots', '8', '--rooms', '2', '--workers', '2'].concat([
        '--video-share',
        '0.3',
        '--actions',
        '3',
        '--max-bot-seconds',
        '20',
        '--sample-seconds',
        '15',
        '--idle-seconds',
        '10',
        '--rss-bound',
        String(RSS_BOUND_MIB),
      ]),
    );
    const out = r.out.replace(/^\{"soak".*$/m, '');
    console.log(out);
    assert.ok(r.result, `no JSON result:\n${out}`);
    const { result } = r;
    assert.ok((result.actions.join ?? 0) >= 10, out);
    assert.ok(result.peak.counts.producers > 0 && result.peak.counts.consumers > 0, out);
    // The server's memory and the bots' are two processes, each sampled over the run.
    assert.ok(result.end.server.rss > 0 && result.end.bots.rss > 0, out);
    assert.ok(result.timeline.filter((s) => s.phase === 'run').length >= 3, out);
    assert.equal(result.timeline.at(-1)?.phase, 'idle', out);
    assert.equal(result.internalErrors, 0, out);
    assert.deepEqual(result.crashes, [], out);
    assert.deepEqual(result.failures, [], out);
    assert.equal(r.code, 0, out);
  },
);
