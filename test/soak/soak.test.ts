import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { resolveWorkerBin } from '../../media-workers/src/index.ts';
import type { SoakResult } from './soak.ts';

/**
 * 60 s of the soak (npm run soak) inside npm test, kept light for a shared CI box: up to 8
 * bots in 2 rooms, a third of the publishers with video, at most 3 actions a second. It
 * runs in its own process (with --expose-gc; libdatachannel's threads end with it).
 * Everything must be back to its baseline at the end, no request may answer INTERNAL,
 * nothing may crash.
 */

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
    const timer = setTimeout(() => child.kill('SIGKILL'), 200_000);
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
  { skip, timeout: 240_000 },
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
      ]),
    );
    const out = r.out.replace(/^\{"soak".*$/m, '');
    console.log(out);
    assert.ok(r.result, `no JSON result:\n${out}`);
    const { result } = r;
    assert.ok((result.actions.join ?? 0) >= 10, out);
    assert.ok(result.peak.counts.producers > 0 && result.peak.counts.consumers > 0, out);
    assert.equal(result.internalErrors, 0, out);
    assert.deepEqual(result.crashes, [], out);
    assert.deepEqual(result.failures, [], out);
    assert.equal(r.code, 0, out);
  },
);
