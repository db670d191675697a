import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectSignaling } from '../../../test/helpers/signalingClient.ts';
import { spawnMain, type LogLine } from '../helpers/mainProcess.ts';

/**
 * SIGTERM on the real entry point (`npm start`) with a member in a room whose router
 * exists. `group`: the signal reaches Node and its mediasoup worker together (Ctrl-C in
 * a terminal, a process-group kill); `process`: Node only (docker stop, Kubernetes), where
 * mediasoup's own signal handler closes the worker. Either way the shutdown must be
 * quiet: rooms closed first (room.closed {reason:'shutdown'}), no error-level log line,
 * no "worker died" handling and no worker spawned after start-up.
 */
for (const target of ['group', 'process'] as const) {
  test(`SIGTERM (${target}): rooms close first, no error logs, no worker respawn`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tutti-shutdown-'));
    const configFile = path.join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        // process: SIGTERM drains 1 s (the member stays), then the same quiet shutdown.
        // group: the workers get the SIGTERM too and stop at once, so no drain (0) there
        // (see docs/deploy.md); drain.signal.test.ts covers the drain itself.
        server: {
          host: '127.0.0.1',
          port: 0,
          logLevel: 'info',
          drainGraceSeconds: target === 'group' ? 0 : 1,
        },
        media: { numWorkers: 1, listenIp: '127.0.0.1' },
        data: { dir },
      }),
    );
    // Its own process group, so `group` can signal it and its worker.
    const main = spawnMain(configFile, { detached: true });
    const { child, exited, logs, stderr } = main;
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`server did not start: ${stderr.join('')}`)),
          20_000,
        );
        const check = (l: LogLine) => {
          const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(l.msg);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        };
        logs.forEach(check);
        main.onLine = check;
      });
      const client = await connectSignaling(`ws://127.0.0.1:${port}/ws`);
      const { room } = await client.request('room.create', { name: 'shutdown' });
      await client.request('room.join', { roomId: room.id, nickname: 'stayer' });
      // join answers only once the router exists, but its log line travels over the child's
      // stdout pipe, which may be read after the WebSocket answer: give it a moment.
      for (let i = 0; i < 50 && !logs.some((l) => l.msg === 'router created'); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(
        logs.some((l) => l.msg === 'router created'),
        'the room has a router on the worker',
      );
      const closed = client.nextNotification('room.closed', undefined, 10_000);

      process.kill(target === 'group' ? -child.pid! : child.pid!, 'SIGTERM');

      assert.deepEqual(await closed, { reason: 'shutdown' });
      assert.equal(await exited, 0, `exit code (stderr: ${stderr.join('')})`);
      client.close();

      const errors = logs.filter((l) => l.level >= 50);
      assert.deepEqual(
        errors.map((l) => l.msg),
        [],
        'no error-level log lines',
      );
      const noise = logs.filter((l) =>
        /worker of this room died|could not create router|worker died|worker replaced/.test(l.msg),
      );
      assert.deepEqual(
        noise.map((l) => l.msg),
        [],
      );
      assert.equal(
        logs.filter((l) => l.msg === 'mediasoup worker started').length,
        1,
        'no worker spawned after start-up',
      );
      assert.ok(logs.some((l) => l.msg === 'shutting down'));
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
