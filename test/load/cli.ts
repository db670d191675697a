import { parseArgs } from 'node:util';
import type { FeedbackMode } from './feedback.ts';
import { BareSfu } from './bare-sfu.ts';
import type { HeaderExtProfile, LoadProfile } from './bots.ts';
import { BotProcess, percentile, windowOf } from './controller.ts';
import { machineInfo } from './cpu.ts';
import type { BotStats } from './ipc.ts';
import { watchInterrupt } from './interrupt.ts';

/**
 * npm run load -- --url http://127.0.0.1:3000 --rooms 2 --publishers 1 --subscribers 5 --duration 30
 *
 * Like `lk load-test`: N rooms × P publishers × S subscribers for D seconds against a
 * running Tutti server, through the public protocol and real WebRTC. Bots run in a child
 * process; this process prints a live line and a final table. Ctrl-C stops early.
 */

const USAGE = `Usage: npm run load -- [options]
  --url URL            Tutti server (http://host:port or ws://host:port/ws). Required unless --bare.
  --bare               Run against an in-process bare mediasoup instead (no server needed).
  --rooms N            rooms (default 1, max 100)
  --publishers P       publishers per room (default 1, max 50)
  --subscribers S      subscribers per room (default 5; rooms × (P+S) ≤ 1000)
  --duration D         seconds of measurement after everyone joined (default 30, max 3600)
  --media av|video|audio   what publishers send (default av: VP8 ~500 kbps + Opus)
  --source camera|screen   video source the publishers announce (default camera)
  --header-ext none|transport-cc   RTP header extensions subscribers offer (default none)
  --profile light|chrome   light (default): one VP8 stream, --header-ext as given; chrome:
                       subscribers offer Chrome's extensions + RTX, publishers send 3 simulcast layers
  --feedback chrome|none   chrome profile: subscribers send Chrome's RTCP (transport-cc, RR,
                       NACK; default chrome) or none
  --bind IP            local address for the bots' ICE (default 127.0.0.1 for loopback URLs)
  --room-prefix NAME   room names are NAME-1..NAME-N (default load)
  --max-loss PCT       exit 1 above this loss (default 1)
  --json               print the final result as one JSON line as well`;

const { values: a } = parseArgs({
  options: {
    url: { type: 'string' },
    bare: { type: 'boolean', default: false },
    rooms: { type: 'string', default: '1' },
    publishers: { type: 'string', default: '1' },
    subscribers: { type: 'string', default: '5' },
    duration: { type: 'string', default: '30' },
    media: { type: 'string', default: 'av' },
    source: { type: 'string', default: 'camera' },
    'header-ext': { type: 'string', default: 'none' },
    profile: { type: 'string', default: 'light' },
    feedback: { type: 'string' },
    bind: { type: 'string' },
    'room-prefix': { type: 'string', default: 'load' },
    'max-loss': { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function fail(msg: string): never {
  console.error(`load: ${msg}\n\n${USAGE}`);
  process.exit(2);
}

if (a.help) {
  console.log(USAGE);
  process.exit(0);
}
const int = (name: string, v: string | undefined, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    fail(`--${name} must be an integer in ${min}..${max}`);
  return n;
};
const rooms = int('rooms', a.rooms, 1, 100);
const publishers = int('publishers', a.publishers, 0, 50);
const subscribers = int('subscribers', a.subscribers, 0, 1000);
const duration = int('duration', a.duration, 1, 3600);
if (rooms * (publishers + subscribers) > 1000) fail('at most 1000 bots in all');
if (!['av', 'video', 'audio'].includes(a.media!)) fail('--media must be av, video or audio');
if (!['camera', 'screen'].includes(a.source!)) fail('--source must be camera or screen');
if (!['none', 'transport-cc'].includes(a['header-ext']!))
  fail('--header-ext must be none or transport-cc');
if (!['light', 'chrome'].includes(a.profile!)) fail('--profile must be light or chrome');
if (a.feedback !== undefined && !['none', 'chrome'].includes(a.feedback))
  fail('--feedback must be chrome or none');
if (!a.bare && !a.url) fail('--url is required (or --bare)');
const maxLoss = Number(a['max-loss']);

let bindAddress = a.bind;
if (!bindAddress && (a.bare || /^(https?|wss?):\/\/(127\.|localhost|\[::1\])/.test(a.url ?? ''))) {
  bindAddress = '127.0.0.1';
}

const interrupted = watchInterrupt('load: stopping (Ctrl-C again to force)…');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ms = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : '-');

const bots = await BotProcess.start({
  mode: a.bare ? 'bare' : 'tutti',
  ...(a.url ? { url: a.url } : {}),
  ...(bindAddress ? { bindAddress } : {}),
  headerExt: a['header-ext'] as HeaderExtProfile,
  profile: a.profile as LoadProfile,
  ...(a.feedback ? { feedback: a.feedback as FeedbackMode } : {}),
});
let sfu: BareSfu | undefined;
if (a.bare) {
  sfu = await BareSfu.start((peer, c) => bots.askNewConsumer(peer, c));
  bots.attachBare(sfu);
}

console.log(`load: ${machineInfo()}; profile ${a.profile}`);
console.log(
  `load: ${rooms} room(s) × ${publishers} publisher(s) × ${subscribers} subscriber(s), ${duration} s, ` +
    `media ${a.media}, against ${a.bare ? 'bare mediasoup (in-process)' : a.url}`,
);

const first: { video: number[]; audio: number[] } = { video: [], audio: [] };
const collect = (s: BotStats): BotStats => {
  first.video.push(...s.firstPacketMs.video);
  first.audio.push(...s.firstPacketMs.audio);
  for (const e of s.errors) console.error(`\nload: ${e}`);
  return s;
};

const joinStart = performance.now();
let joinFailed = 0;
const joining = (async () => {
  for (let r = 1; r <= rooms && !interrupted(); r++) {
    const spec = {
      room: `${a['room-prefix']}-${r}`,
      media: a.media as 'av' | 'video' | 'audio',
      videoSource: a.source as 'camera' | 'screen',
    };
    const p = await bots.spawn({ ...spec, publishers, subscribers: 0 });
    const s = await bots.spawn({ ...spec, publishers: 0, subscribers, concurrency: 10 });
    joinFailed += p.failed + s.failed;
  }
})();

let prev = collect(await bots.stats());
const progress = (s: BotStats, phase: string): void => {
  const w = windowOf(prev, s);
  prev = s;
  const t = ((performance.now() - joinStart) / 1000).toFixed(0).padStart(4);
  const tty = process.stdout.isTTY;
  process.stdout.write(
    `${tty ? '\r' : ''}${t}s ${phase.padEnd(7)} pubs ${s.publishers} subs ${s.subscribers} failed ${s.failed}` +
      ` | streams ${s.streamsFlowing}/${s.streams} | rx ${w.rxMbps.toFixed(1)} Mbit/s` +
      ` tx ${w.txMbps.toFixed(1)} Mbit/s | loss ${w.lossPct.toFixed(2)}% | bots CPU ${(w.botCpu * 100).toFixed(0)}%${tty ? '   ' : '\n'}`,
  );
};

// Join phase (bounded: 10 s + 1 s per bot).
const joinDeadline = joinStart + 10_000 + rooms * (publishers + subscribers) * 1000;
let joined = false;
void joining.then(() => (joined = true));
while (!joined && !interrupted() && performance.now() < joinDeadline) {
  await sleep(1000);
  progress(collect(await bots.stats()), 'joining');
}
const joinSeconds = (performance.now() - joinStart) / 1000;
await sleep(1500);
const startStats = collect(await bots.stats());
prev = startStats;
const measureEnd = performance.now() + duration * 1000;
while (!interrupted() && performance.now() < measureEnd) {
  await sleep(Math.min(1000, Math.max(0, measureEnd - performance.now())));
  progress(collect(await bots.stats()), 'running');
}
const endStats = collect(await bots.stats());
if (process.stdout.isTTY) process.stdout.write('\n');
await bots.stop();
sfu?.close();

const w = windowOf(startStats, endStats);
const neverFlowed = endStats.streams - endStats.streamsFlowing;
const expectedStreams = rooms * subscribers * publishers * (a.media === 'av' ? 2 : 1);
const rows: [string, string][] = [
  ['rooms × publishers × subscribers', `${rooms} × ${publishers} × ${subscribers}`],
  [
    'bots joined / failed',
    `${endStats.publishers + endStats.subscribers - endStats.failed} / ${endStats.failed}`,
  ],
  ['join phase', `${joinSeconds.toFixed(1)} s`],
  [
    'streams flowing / announced / expected',
    `${endStats.streamsFlowing} / ${endStats.streams} / ${expectedStreams}`,
  ],
  ['measured', `${w.seconds.toFixed(1)} s`],
  [
    'sent (publishers)',
    `${w.txMbps.toFixed(2)} Mbit/s, ${endStats.sentPackets - startStats.sentPackets} packets`,
  ],
  ['received (subscribers)', `${w.rxMbps.toFixed(2)} Mbit/s, ${w.packets} packets`],
  [
    'loss (sequence gaps)',
    `${w.lossPct.toFixed(3)} % (${Math.max(0, w.expected - w.packets)} of ${w.expected})`,
  ],
  ['stalled streams (last window)', String(endStats.stalled)],
  [
    'first video packet p50 / p95',
    `${ms(percentile(first.video, 50))} / ${ms(percentile(first.video, 95))}`,
  ],
  [
    'first audio packet p50 / p95',
    `${ms(percentile(first.audio, 50))} / ${ms(percentile(first.audio, 95))}`,
  ],
  [
    'bot process CPU',
    `${(w.botCpu * 100).toFixed(0)} % of a core, RSS ${(endStats.rssBytes / 2 ** 20).toFixed(0)} MiB`,
  ],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log('\n' + rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n'));

const ok =
  !interrupted() &&
  joinFailed === 0 &&
  endStats.failed === 0 &&
  endStats.streams === expectedStreams &&
  neverFlowed === 0 &&
  w.lossPct <= maxLoss;
if (a.json) {
  console.log(
    JSON.stringify({
      ok,
      rooms,
      publishers,
      subscribers,
      failed: endStats.failed,
      streams: endStats.streams,
      streamsFlowing: endStats.streamsFlowing,
      expectedStreams,
      lossPct: w.lossPct,
      rxMbps: w.rxMbps,
      txMbps: w.txMbps,
      firstVideoP50: percentile(first.video, 50),
      firstAudioP50: percentile(first.audio, 50),
      botCpu: w.botCpu,
    }),
  );
}
if (interrupted()) {
  console.log('load: interrupted (numbers above cover the time it ran)');
  process.exit(130);
}
console.log(ok ? 'load: OK' : 'load: FAILED (see above)');
process.exit(ok ? 0 : 1);
