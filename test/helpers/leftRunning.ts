// Loaded into every test process by `npm test` (--import). A test file whose process does not
// exit once its tests and hooks are done (a socket, timer, server or child process left
// behind) would hang the whole run: TUTTI_TEST_EXIT_GRACE_MS (60 s) after its tests end, it is
// told what it left running and made to exit, so the leak is named and fixed, not waited on.
// TUTTI_LEAK_STACKS=1 also prints where each socket left open was connected from.
import { Socket } from 'node:net';
import { after } from 'node:test';
import { Worker } from 'node:worker_threads';

const graceMs = Number(process.env.TUTTI_TEST_EXIT_GRACE_MS ?? 60_000);
/** After the grace, how long a main thread stuck in native code (no timer can fire) gets. */
const blockedMs = Number(process.env.TUTTI_TEST_KILL_AFTER_MS ?? 30_000);
const harmless = new Set(['PipeWrap', 'TTYWrap', 'FSReqCallback']);
const connectedFrom = new WeakMap<Socket, string>();

// Only in a test file's own process (the runner sets this), never in the runner itself.
if (process.env.NODE_TEST_CONTEXT?.startsWith('child')) {
  // Registered first, so it runs before the file's own top-level hooks: the grace covers them.
  after(() => {
    watchFromAnotherThread(graceMs + blockedMs);
    setTimeout(() => {
      const file = process.argv.slice(1).find((a) => a.endsWith('.test.ts')) ?? process.argv[1];
      process.stderr.write(
        `${file}: still running ${graceMs} ms after its tests ended: ${leftRunning()}; exiting\n`,
      );
      process.exit();
    }, graceMs).unref();
  });
}

/**
 * A thread of its own that kills this process if it is still there `ms` from now: the main
 * thread's timers cannot fire while it is blocked (a native call that never returns).
 */
function watchFromAnotherThread(ms: number): void {
  const file = process.argv.slice(1).find((a) => a.endsWith('.test.ts')) ?? process.argv[1];
  const watchdog = new Worker(
    `const { writeSync } = require('node:fs');
     const { ms, file } = require('node:worker_threads').workerData;
     setTimeout(() => {
       writeSync(2, file + ': blocked ' + ms + ' ms after its tests ended; killed\\n');
       process.kill(process.pid, 'SIGKILL');
     }, ms);`,
    { eval: true, workerData: { ms, file } },
  );
  watchdog.unref();
}

if (process.env.TUTTI_LEAK_STACKS === '1') {
  const connect = Socket.prototype.connect;
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    connectedFrom.set(this, new Error('connected from').stack ?? '');
    return (connect as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof Socket.prototype.connect;
  // ioredis connects from a later tick: remember who made the client instead.
  const { Redis } = await import('ioredis');
  const redisConnect = Redis.prototype.connect;
  Redis.prototype.connect = function (this: InstanceType<typeof Redis>) {
    const stack = new Error('Redis client made at').stack ?? '';
    const done = redisConnect.call(this);
    const remember = (): void => {
      const stream = (this as unknown as { stream?: Socket }).stream;
      if (stream) connectedFrom.set(stream, stack);
    };
    done.then(remember, remember);
    return done;
  };
}

/** What keeps the event loop up, counted by kind, and where its open sockets lead. */
function leftRunning(): string {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) {
    if (!harmless.has(r)) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  const what = [...counts].map(([r, n]) => `${r}×${n}`).join(', ');
  return what + openSockets();
}

/** Where the sockets still open lead (a port says whose: 6379 Redis, 5432 PostgreSQL…). */
function openSockets(): string {
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  const sockets = (handles?.call(process) ?? []).filter(
    (h): h is Socket => h instanceof Socket && !h.destroyed && h.remotePort !== undefined,
  );
  const lines = sockets.map(
    (s) =>
      `${s.localPort ?? '?'}→${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}` +
      (connectedFrom.has(s) ? `\n${connectedFrom.get(s)}` : ''),
  );
  return lines.length ? ` (sockets ${lines.join('; ')})` : '';
}
