import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { watchInterrupt } from '../load/interrupt.ts';
import { formatReport } from './report.ts';
import { runSoak } from './soak.ts';

/**
 * npm run soak -- --minutes 30
 *
 * Bots join, leave, publish, subscribe, pause, chat and upload every second against a
 * Tutti server in a process of its own; at the end its mediasoup objects, connections and
 * sockets must be back to the baseline and the idle server's RSS within a bound (both
 * processes run with --expose-gc, so memory is read after a full GC). Exit 0 on pass, 1 on
 * fail. Ctrl-C ends the run early (still checked); a second Ctrl-C exits at once.
 */

const USAGE = `Usage: npm run soak -- [options]
  --minutes M          length of the soak (default 30; --seconds S for short runs)
  --seconds S          length in seconds (overrides --minutes)
  --seed N             random seed (default: random, printed)
  --bots N             bots alive at once (default 20, max 50)
  --rooms N            rooms the bots spread over (default 3)
  --workers N          media workers (default 2, 1 on a one-core box)
  --video-share F      share of publishers that send video too (default 0.5)
  --actions N          most actions started per second (default 6)
  --rss-bound MIB      the server's RSS may end (idle) this far above baseline (default 32)
  --max-bot-seconds S  a bot leaves after at most this long (default 30)
  --host IP            where the server listens and the bots bind (default
                       TUTTI_SOAK_HOST or 127.0.0.1)
  --sample-seconds S   a memory sample (after a full GC) every S seconds (default 60)
  --idle-seconds S     the idle wait after everyone left, before the end check (default 20)
  --malloc-arena-max N MALLOC_ARENA_MAX for the server's process only
  --trim-probe         at the end, call malloc_trim(0) in the server through gdb and
                       sample again (diagnosis only, not judged)
  --json               print the result as one JSON line as well
The server's heap is written at baseline and end when TUTTI_SOAK_HEAP_SNAPSHOT=PREFIX is
set (PREFIX.baseline.heapsnapshot, PREFIX.end.heapsnapshot; compare them with
node test/soak/heapdiff.ts A B). Writing them moves RSS: leave it unset for the verdict.`;

const { values: a } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    bots: { type: 'string', default: '20' },
    rooms: { type: 'string', default: '3' },
    workers: { type: 'string' },
    'video-share': { type: 'string', default: '0.5' },
    actions: { type: 'string', default: '6' },
    'rss-bound': { type: 'string', default: '32' },
    'max-bot-seconds': { type: 'string', default: '30' },
    host: { type: 'string' },
    'sample-seconds': { type: 'string', default: '60' },
    'idle-seconds': { type: 'string', default: '20' },
    'malloc-arena-max': { type: 'string' },
    'trim-probe': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (a.help) {
  console.log(USAGE);
  process.exit(0);
}
const num = (name: string, v: string | undefined, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`soak: --${name} must be between ${min} and ${max}\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
};

const seconds = a.seconds
  ? num('seconds', a.seconds, 5, 86_400)
  : num('minutes', a.minutes, 0.1, 1440) * 60;
const seed = a.seed ? num('seed', a.seed, 0, 2 ** 32 - 1) : Math.floor(Math.random() * 2 ** 32);
const heapPrefix = process.env.TUTTI_SOAK_HEAP_SNAPSHOT?.replace(/\.heapsnapshot$/, '');
const stopRequested = watchInterrupt('soak: stopping (bots leave, then the end check runs)…');
console.log(
  `soak: seed ${seed} (repeat with --seed ${seed})${globalThis.gc ? '' : '; no --expose-gc'}`,
);
const result = await runSoak({
  seconds: Math.round(seconds),
  seed,
  maxBots: Math.round(num('bots', a.bots, 1, 50)),
  rooms: Math.round(num('rooms', a.rooms, 1, 20)),
  workers: Math.round(
    a.workers ? num('workers', a.workers, 1, 8) : availableParallelism() >= 2 ? 2 : 1,
  ),
  videoShare: num('video-share', a['video-share'], 0, 1),
  actionsPerSecond: Math.round(num('actions', a.actions, 1, 50)),
  maxBotSeconds: num('max-bot-seconds', a['max-bot-seconds'], 2, 3600),
  rssBoundMiB: num('rss-bound', a['rss-bound'], 1, 4096),
  host: a.host ?? process.env.TUTTI_SOAK_HOST ?? '127.0.0.1',
  sampleSeconds: num('sample-seconds', a['sample-seconds'], 1, 3600),
  idleSeconds: num('idle-seconds', a['idle-seconds'], 0, 600),
  ...(a['malloc-arena-max']
    ? {
        serverEnv: {
          MALLOC_ARENA_MAX: String(num('malloc-arena-max', a['malloc-arena-max'], 1, 64)),
        },
      }
    : {}),
  trimProbe: a['trim-probe'],
  ...(heapPrefix ? { heapSnapshotPrefix: heapPrefix } : {}),
  stopRequested,
  print: (line) => console.log(line),
});
console.log(formatReport(result));
if (a.json) console.log(JSON.stringify({ soak: result }));
// Exit outright: libdatachannel's threads would keep the process alive.
process.exit(result.failures.length === 0 ? 0 : 1);
