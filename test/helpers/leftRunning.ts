// Loaded into every test process by `npm test` (--import). The suite runs with
// --test-force-exit so that a file which leaves a socket, timer or child process behind cannot
// hang the whole run; this says which file did, so the leak gets fixed instead of hidden.
// TUTTI_LEAK_STACKS=1 also prints where each socket left open was connected from.
import { Socket } from 'node:net';

const harmless = new Set(['PipeWrap', 'TTYWrap', 'FSReqCallback']);
const connectedFrom = new WeakMap<Socket, string>();

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

process.on('exit', () => {
  const left = process.getActiveResourcesInfo().filter((r) => !harmless.has(r));
  if (left.length === 0) return;
  const counts = new Map<string, number>();
  for (const r of left) counts.set(r, (counts.get(r) ?? 0) + 1);
  const what = [...counts].map(([r, n]) => `${r}×${n}`).join(', ');
  const file = process.argv.slice(1).find((a) => a.endsWith('.test.ts')) ?? process.argv[1];
  process.stderr.write(`left running at exit (${file}): ${what}${openSockets()}\n`);
});

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
