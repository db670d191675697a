import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// npm test loads test/helpers/leftRunning.ts into every test process: a file that leaves
// something running after its tests, or whose teardown never returns, must be named and cut
// off, not hang the whole suite.
const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs one fixture as npm test runs a file; its exit code (null: still running after 30 s). */
async function runFixture(fixture: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(
    process.execPath,
    ['--test', '--import', './test/helpers/leftRunning.ts', `test/helpers/fixtures/${fixture}`],
    {
      cwd: root,
      // Without our own NODE_TEST_CONTEXT: the child is a runner, as npm test's is.
      env: {
        ...process.env,
        NODE_TEST_CONTEXT: undefined,
        TUTTI_TEST_EXIT_GRACE_MS: '1000',
        TUTTI_TEST_KILL_AFTER_MS: '1000',
      },
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 30_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, out };
}

test('a test file that leaves a timer running is named and made to exit after the grace', async () => {
  const { code, out } = await runFixture('leavesATimer.ts');
  assert.notEqual(code, null, `the run hung:\n${out}`);
  assert.equal(code, 0, out); // Its test passed: the leak is reported, not a failure.
  assert.match(out, /leavesATimer\.ts: still running 1000 ms after its tests ended: Timeout×1/);
});

test('a test file whose teardown blocks its thread is killed from another thread', async () => {
  const { code, out } = await runFixture('blocksInTeardown.ts');
  assert.notEqual(code, null, `the run hung:\n${out}`);
  assert.notEqual(code, 0, out); // Killed: the file fails.
  assert.match(out, /blocksInTeardown\.ts: blocked 2000 ms after its tests ended; killed/);
});
