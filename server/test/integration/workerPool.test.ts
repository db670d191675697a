import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mediaCodecs, WorkerPool } from '@tutti/media-workers';

// The pool itself, with real workers: placement, status, replacement of a killed worker.

/** Resolves once status() shows a live worker in place of `victim` (polls; no pool events). */
async function replacement(
  pool: WorkerPool,
  before: number[],
  victim: number,
): Promise<{ deadPid: number; newPid: number }> {
  for (let i = 0; i < 200; i++) {
    const fresh = pool.status().find((w) => w.alive && !before.includes(w.pid));
    if (fresh && !pool.status().some((w) => w.pid === victim)) {
      return { deadPid: victim, newPid: fresh.pid };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the killed worker was not replaced');
}

test('WorkerPool: spreads routers over the least-loaded workers and replaces a killed one', async () => {
  const pool = await WorkerPool.create({ numWorkers: 2, loadSampleMs: 100 });
  try {
    assert.equal(pool.size, 2);
    const r1 = await pool.createRouter({ mediaCodecs });
    const r2 = await pool.createRouter({ mediaCodecs });
    assert.notEqual(r1.appData, undefined);
    const st = pool.status();
    assert.deepEqual(st.map((w) => w.routers).sort(), [1, 1], 'one router on each worker');
    assert.ok(st.every((w) => w.alive));
    for (let i = 0; i < 50 && !pool.status().every((w) => typeof w.cpu === 'number'); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(
      pool.status().every((w) => typeof w.cpu === 'number' && w.cpu >= 0),
      'CPU sampled',
    );

    const victim = st[0]!.pid;
    const replaced = replacement(
      pool,
      st.map((w) => w.pid),
      victim,
    );
    const routerClosed = new Promise<void>((resolve) => {
      for (const r of [r1, r2]) r.on('workerclose', () => resolve());
    });
    process.kill(victim, 'SIGKILL');
    await routerClosed;
    const info = await replaced;
    assert.equal(info.deadPid, victim);
    const after = pool.status();
    assert.equal(after.length, 2);
    assert.ok(after.every((w) => w.alive));
    assert.ok(!after.some((w) => w.pid === victim));
    assert.equal(after.find((w) => w.pid === info.newPid)?.routers, 0);
    // A new router goes to the fresh (empty) worker.
    const r3 = await pool.createRouter({ mediaCodecs });
    assert.equal(pool.status().find((w) => w.pid === info.newPid)?.routers, 1);
    r3.close();
    assert.equal(pool.status().find((w) => w.pid === info.newPid)?.routers, 0);
  } finally {
    pool.close();
  }
});

test('WorkerPool: a missing binary fails start-up with a clear message', async () => {
  await assert.rejects(
    WorkerPool.create({ numWorkers: 1, workerBin: '/nonexistent/mediasoup-worker' }),
    /not found at \/nonexistent\/mediasoup-worker.*npm run setup/,
  );
});

test('WorkerPool: routers requested at the same time are spread, not piled on one worker', async () => {
  const pool = await WorkerPool.create({ numWorkers: 2, loadSampleMs: 60_000 });
  try {
    // E.g. every room of a dead worker moving at once, or a burst of first joins.
    const routers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => pool.createRouter({ mediaCodecs, appData: { i } })),
    );
    assert.deepEqual(
      pool.status().map((w) => w.routers),
      [5, 5],
    );
    // The router says where it lives (rooms log and expose it).
    const pids = new Set(pool.status().map((w) => w.pid));
    assert.ok(routers.every((r) => pids.has(r.appData.workerPid as number)));
    assert.equal(routers[3]!.appData.i, 3);
  } finally {
    pool.close();
  }
});

test('WorkerPool: once closing, a worker that exits is neither reported nor replaced', async () => {
  const errors: string[] = [];
  const pool = await WorkerPool.create({
    numWorkers: 1,
    log: { info() {}, warn() {}, error: (_o, msg) => errors.push(msg) },
  });
  try {
    const router = await pool.createRouter({ mediaCodecs });
    const [pid] = pool.status().map((w) => w.pid);
    pool.beginClose();
    assert.equal(pool.closing, true);
    const routerClosed = new Promise<void>((resolve) => router.on('workerclose', resolve));
    process.kill(pid!, 'SIGTERM'); // Like a process-group signal reaching the worker.
    await routerClosed;
    await new Promise((r) => setTimeout(r, 500)); // A respawn would have started by now.
    assert.deepEqual(errors, []);
    assert.deepEqual(
      pool.status().map((w) => w.pid),
      [pid],
      'no worker spawned',
    );
    await assert.rejects(pool.createRouter({ mediaCodecs }), /worker pool closed/);
  } finally {
    pool.close();
  }
});

test('WorkerPool: a worker the group signal stops before Node begins to close is not reported; alone, it is replaced', async () => {
  for (const closeSoon of [true, false]) {
    const errors: string[] = [];
    const pool = await WorkerPool.create({
      numWorkers: 1,
      log: { info() {}, warn() {}, error: (_o, msg) => errors.push(msg) },
    });
    try {
      const router = await pool.createRouter({ mediaCodecs });
      const [pid] = pool.status().map((w) => w.pid);
      const routerClosed = new Promise<void>((resolve) => router.on('workerclose', resolve));
      process.kill(pid!, 'SIGTERM'); // Reaches the worker before Node's own handler runs.
      await routerClosed;
      if (closeSoon) {
        await new Promise((r) => setTimeout(r, 100)); // Node's handler, a moment later.
        pool.beginClose();
        await new Promise((r) => setTimeout(r, 1500));
        assert.deepEqual(errors, [], 'a shutdown, not a death');
        assert.deepEqual(
          pool.status().map((w) => w.pid),
          [pid],
          'no worker spawned',
        );
      } else {
        const deadline = Date.now() + 10_000;
        while (pool.status()[0]?.pid === pid || !pool.status()[0]?.alive) {
          assert.ok(Date.now() < deadline, 'the stopped worker was replaced');
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(errors, ['mediasoup worker died']);
      }
    } finally {
      pool.close();
    }
  }
});
