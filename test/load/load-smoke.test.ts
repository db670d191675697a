import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { resolveWorkerBin } from '../../media-workers/src/index.ts';
import { startTuttiServer } from '../bench/tutti-server.ts';

/**
 * Smoke run of the load tool with tiny numbers: real WebRTC bots through Tutti's protocol
 * (and once against the bare-mediasoup baseline), checking every stream flows.
 */

const workerBin = resolveWorkerBin();
const skip = existsSync(workerBin)
  ? false
  : `no mediasoup worker at ${workerBin} (npm run worker:build)`;

interface LoadResult {
  ok: boolean;
  streams: number;
  streamsFlowing: number;
  expectedStreams: number;
  lossPct: number;
  failed: number;
  firstVideoP50: number;
}

function runLoad(
  args: string[],
): Promise<{ code: number | null; out: string; result: LoadResult | undefined }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [new URL('./cli.ts', import.meta.url).pathname, ...args, '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{"ok"'));
      resolve({ code, out, result: line ? (JSON.parse(line) as LoadResult) : undefined });
    });
  });
}

test('load tool smoke: 2 rooms × 1 publisher × 2 subscribers through Tutti', { skip }, async () => {
  const server = await startTuttiServer({ numWorkers: 1 });
  try {
    const r = await runLoad([
      '--url',
      server.url,
      '--rooms',
      '2',
      '--publishers',
      '1',
      '--subscribers',
      '2',
      '--duration',
      '3',
      // A smoke test checks that media flows, not capacity: tolerate a busy CI machine.
      '--max-loss',
      '5',
    ]);
    assert.ok(r.result, `no JSON result:\n${r.out}`);
    assert.equal(r.result.failed, 0, r.out);
    assert.equal(r.result.expectedStreams, 8);
    assert.equal(r.result.streamsFlowing, 8, r.out);
    assert.ok(r.result.lossPct <= 5, r.out);
    assert.ok(r.result.firstVideoP50 > 0 && r.result.firstVideoP50 < 5000, r.out);
    assert.equal(r.code, 0, r.out);
  } finally {
    await server.stop();
  }
});

test('load tool smoke: bare mediasoup baseline', { skip }, async () => {
  const r = await runLoad([
    '--bare',
    '--publishers',
    '1',
    '--subscribers',
    '2',
    '--duration',
    '2',
    '--max-loss',
    '5',
  ]);
  assert.ok(r.result, `no JSON result:\n${r.out}`);
  assert.equal(r.result.streamsFlowing, 4, r.out);
  assert.equal(r.code, 0, r.out);
});
