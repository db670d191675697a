// Builds srtp3-compat.cpp against our libsrtp3-over-libsrtp2 header and the
// libsrtp the worker was built with, then runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildDir, workerBin } from './worker-bin.ts';

const here = dirname(new URL(import.meta.url).pathname);
const source = join(here, 'srtp3-compat.cpp');
const shimInclude = join(buildDir, 'shims', 'libsrtp3');

function split(flags: string): string[] {
  return flags.split(/\s+/).filter(Boolean);
}

function compileAndRun(cflags: string, libs: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tutti-srtp3-'));
  try {
    const exe = join(dir, 'srtp3-compat');
    const cc = spawnSync(
      'g++',
      [
        '-std=c++20',
        '-O2',
        '-Wall',
        '-I',
        shimInclude,
        ...split(cflags),
        source,
        ...split(libs),
        '-o',
        exe,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(cc.status, 0, `g++ failed:\n${cc.stderr}`);
    const run = spawnSync(exe, { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, `srtp3-compat failed:\n${run.stdout}${run.stderr}`);
    return run.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertAllProfiles(out: string): void {
  for (const name of [
    'AES_CM_128_HMAC_SHA1_80',
    'AES_CM_128_HMAC_SHA1_32',
    'AEAD_AES_128_GCM',
    'AEAD_AES_256_GCM',
    'policy errors',
  ]) {
    assert.match(out, new RegExp(`^ok ${name}$`, 'm'));
  }
  assert.match(out, /^ALL OK$/m);
}

test('libsrtp3 compat header against the libsrtp the worker uses', (t) => {
  // build-worker.sh leaves srtp-flags.txt ("CFLAGS|LIBS") next to each binary it builds.
  const flagsFile = join(dirname(workerBin()), 'srtp-flags.txt');
  if (!existsSync(flagsFile)) {
    t.skip(`worker not built by build-worker.sh (no ${flagsFile})`);
    return;
  }
  const [cflags, libs] = readFileSync(flagsFile, 'utf8').trim().split('|');
  const out = compileAndRun(cflags ?? '', libs ?? '');
  assertAllProfiles(out);
  t.diagnostic(out.split('\n')[0] ?? '');
});

test("libsrtp3 compat header against Debian's libsrtp2 (NSS)", (t) => {
  const pc = spawnSync('pkg-config', ['--exists', 'libsrtp2']);
  if (pc.status !== 0) {
    t.skip('libsrtp2-dev not installed');
    return;
  }
  const cflags = execFileSync('pkg-config', ['--cflags', 'libsrtp2'], { encoding: 'utf8' });
  const libs = execFileSync('pkg-config', ['--libs', 'libsrtp2'], { encoding: 'utf8' });
  assertAllProfiles(compileAndRun(cflags, libs));
});
