import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { watchInterrupt } from '../load/interrupt.ts';
import { formatReport } from './report.ts';
import { runSoak } from './soak.ts';

/**
 * npm run soak -- --minutes 30
 *
 * Bots join, leave, publish, subscribe, pause, chat and upload every second against an
 * in-process Tutti server; at the end its mediasoup objects, connections and sockets must be
 * back to the baseline and RSS within a bound (run with --expose-gc, as the npm script does,
 * so memory is read after a full GC). Exit 0 on pass, 1 on fail. Ctrl-C ends the
 * run early (still checked); a second Ctrl-C exits at once.
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
  --rss-bound MIB      RSS may end this far above baseline (default 96)
  --max-bot-seconds S  a bot leaves after at most this long (default 30)
  --json               print the result as one JSON line as well`;

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
    'rss-bound': { type: 'string', default: '96' },
    'max-bot-seconds': { type: 'string', default: '30' },
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
  stopRequested,
  print: (line) => console.log(line),
});
console.log(formatReport(result));
if (a.json) console.log(JSON.stringify({ soak: result }));
// Exit outright: libdatachannel's threads would keep the process alive.
process.exit(result.failures.length === 0 ? 0 : 1);
