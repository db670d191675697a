import { setTimeout as sleep } from 'node:timers/promises';
import { errorCodeOf } from '@tutti/protocol';
import { loadOpusFixture, loadVp8Fixture } from '../load/rtp.ts';
import { ensureRoom } from '../load/signaling.ts';
import { SoakBot, type BotContext, type Media } from './bot.ts';
import { EXACT_COUNTS, peakOf, processMemory, type Snapshot } from './census.ts';
import { Random } from './random.ts';
import { SoakServer } from './serverIpc.ts';
import { formatSample, mallocTrim, timelineHeader, type Phase, type Sample } from './timeline.ts';

/**
 * The soak: a Tutti server in a process of its own (test/soak/serverproc.ts: its RSS is
 * the server's, not the bots'), and every second a bounded random mix of bot actions (join,
 * leave, publish real RTP, subscribe, pause/resume, chat, upload) from this process. At the
 * end every bot leaves; after a settle and an idle period the mediasoup objects, connections
 * and sockets must be back to their baseline exactly, and the server's RSS within a bound.
 */

export interface SoakOptions {
  seconds: number;
  seed: number;
  /** Bots alive at once (joining ones count). */
  maxBots: number;
  rooms: number;
  workers: number;
  /** Share of publishers that send VP8 (~500 kbps) besides Opus. */
  videoShare: number;
  /** Most actions started per second. */
  actionsPerSecond: number;
  /** A bot leaves after at most this long. */
  maxBotSeconds: number;
  /** How far the server's RSS may end (idle) above its baseline, MiB. */
  rssBoundMiB: number;
  /** Where the server listens and the bots bind (default 127.0.0.1). */
  host?: string;
  /** A memory sample every this many seconds (default 60). */
  sampleSeconds?: number;
  /** How long the idle server is left alone before the end snapshot (default 20 s). */
  idleSeconds?: number;
  /** Added to the server process's environment (e.g. MALLOC_ARENA_MAX). */
  serverEnv?: NodeJS.ProcessEnv;
  /** After the end: call malloc_trim(0) in the server through gdb and sample once more. */
  trimProbe?: boolean;
  /** Write the server's heap at baseline and end: <prefix>.baseline/.end.heapsnapshot. */
  heapSnapshotPrefix?: string;
  stopRequested?: () => boolean;
  print?: (line: string) => void;
}

export interface SoakResult {
  seed: number;
  seconds: number;
  baseline: Snapshot;
  peak: Snapshot;
  /** After the settle and idle periods: what is judged. */
  end: Snapshot;
  timeline: Sample[];
  actions: Record<string, number>;
  /** Failed requests by `what CODE`. */
  errors: Record<string, number>;
  internalErrors: number;
  crashes: string[];
  gcExposed: boolean;
  rssBoundMiB: number;
  failures: string[];
}

type Action = 'join' | 'leave' | 'publish' | 'unpublish' | 'pause' | 'chat' | 'upload';
const WEIGHTS: Record<Action, number> = {
  join: 4,
  leave: 2,
  publish: 1,
  unpublish: 1,
  pause: 3,
  chat: 4,
  upload: 1,
};
const LEAVES = ['graceful', 'drop', 'media-first'] as const;
const SETTLE_MIN_MS = 6_000; // undici keeps idle HTTP sockets open 4 s
const SETTLE_MAX_MS = 30_000;

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const print = opts.print ?? (() => {});
  const rnd = new Random(opts.seed);
  const crashes: string[] = [];
  const onCrash = (err: unknown): void => void crashes.push(String(err));
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const host = opts.host ?? '127.0.0.1';
  const server = await SoakServer.start({ host, workers: opts.workers }, opts.serverEnv);
  let workersClosed = 0;
  const snap = async (collect: boolean): Promise<Snapshot> => {
    const s = await server.snapshot(collect);
    workersClosed = s.workersClosed;
    return { ...s.snapshot, bots: processMemory(collect) };
  };
  const actions: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let internalErrors = 0;
  const ctx: BotContext = {
    httpUrl: server.url,
    wsUrl: server.wsUrl,
    bindAddress: host,
    onError(what, err) {
      const code = errorCodeOf(err) ?? 'OTHER';
      if (code === 'INTERNAL') internalErrors++;
      const key = `${what} ${code}`;
      errors[key] = (errors[key] ?? 0) + 1;
      if ((errors[key] ?? 0) <= 3) print(`  ${key}: ${err instanceof Error ? err.message : err}`);
    },
  };
  const media: { av: Media; audio: Media } = {
    av: { video: loadVp8Fixture(), audio: loadOpusFixture() },
    audio: { video: undefined, audio: loadOpusFixture() },
  };
  const bots = new Set<SoakBot>();
  const pending = new Set<Promise<unknown>>();
  const run = (what: string, fn: () => Promise<unknown>): void => {
    actions[what] = (actions[what] ?? 0) + 1;
    const p = fn().finally(() => pending.delete(p));
    pending.add(p);
  };
  let botSeq = 0;
  const roomIds: string[] = [];
  const join = async (roomId: string): Promise<void> => {
    const bot = new SoakBot(ctx, `bot-${++botSeq}`, roomId);
    bots.add(bot);
    if (!(await bot.join())) return void bots.delete(bot);
    if (rnd.chance(0.6)) await bot.publish(rnd.chance(opts.videoShare) ? media.av : media.audio);
    if (rnd.chance(0.7)) await bot.subscribe();
  };
  const leave = async (bot: SoakBot): Promise<void> => {
    bots.delete(bot);
    await bot.leave(rnd.pick(LEAVES)!);
  };
  const act = (action: Action): void => {
    const live = [...bots].filter((b) => !b.gone);
    const bot = rnd.pick(live);
    if (action === 'join' || !bot) {
      if (bots.size < opts.maxBots) run('join', () => join(rnd.pick(roomIds)!));
    } else if (action === 'leave') run('leave', () => leave(bot));
    else if (action === 'publish' && !bot.publishing) {
      run('publish', () => bot.publish(rnd.chance(opts.videoShare) ? media.av : media.audio));
    } else if (action === 'unpublish' && bot.publishing) run('unpublish', () => bot.unpublish());
    else if (action === 'pause') run('pause', () => bot.togglePause((l) => rnd.pick(l)));
    else if (action === 'chat') {
      const to = rnd.chance(0.2) ? rnd.pick(bot.others) : undefined;
      run('chat', () => bot.chat(rnd.text(rnd.int(1, 200)), to));
    } else if (action === 'upload') {
      run('upload', () => bot.upload(`note-${botSeq}.txt`, rnd.text(rnd.int(100, 8000))));
    }
  };
  const settle = async (baseline: Snapshot | undefined): Promise<void> => {
    const started = Date.now();
    await sleep(SETTLE_MIN_MS);
    while (baseline && Date.now() - started < SETTLE_MAX_MS) {
      const now = await snap(false);
      if (EXACT_COUNTS.every((n) => now.counts[n] === baseline.counts[n])) return;
      await sleep(500);
    }
  };

  const timeline: Sample[] = [];
  let t0 = Date.now();
  const sample = async (phase: Phase): Promise<Snapshot> => {
    const s: Sample = {
      at: Math.round((Date.now() - t0) / 1000),
      phase,
      bots: bots.size,
      snapshot: await snap(true),
    };
    timeline.push(s);
    print(`  mem ${formatSample(s)}`);
    return s.snapshot;
  };
  const heapSnapshot = async (which: string): Promise<void> => {
    if (!opts.heapSnapshotPrefix) return;
    const file = `${opts.heapSnapshotPrefix}.${which}.heapsnapshot`;
    print(`  heap snapshot: ${await server.heapSnapshot(file)}`);
  };

  let baseline: Snapshot;
  let peak: Snapshot;
  let end: Snapshot;
  let elapsed: number;
  try {
    for (let i = 0; i < opts.rooms; i++) {
      roomIds.push(await ensureRoom(server.wsUrl, `soak-${opts.seed}-${i + 1}`));
    }
    // Warm-up: the first join, publish, subscribe and upload load code and native state once.
    const warm = [new SoakBot(ctx, 'warm-1', roomIds[0]!), new SoakBot(ctx, 'warm-2', roomIds[0]!)];
    for (const b of warm) await b.join();
    await warm[0]!.publish(media.av);
    await warm[1]!.subscribe();
    await warm[1]!.chat('warm-up');
    await warm[1]!.upload('warm.txt', 'warm-up');
    await sleep(1000);
    for (const b of warm) await b.leave('graceful');
    await settle(undefined);
    t0 = Date.now();
    print(`  mem ${timelineHeader()}`);
    baseline = await sample('baseline');
    peak = baseline;
    // For a leak hunt: what the heap holds at baseline and once everyone left (compare
    // them with test/soak/heapdiff.ts, or in DevTools' Memory tab).
    await heapSnapshot('baseline');
    print(`baseline taken; soaking ${opts.seconds} s with up to ${opts.maxBots} bots`);

    const sampleMs = (opts.sampleSeconds ?? 60) * 1000;
    const startedAt = Date.now();
    let nextSample = startedAt + sampleMs;
    while (Date.now() - startedAt < opts.seconds * 1000 && !opts.stopRequested?.()) {
      for (const bot of bots) {
        if (Date.now() - bot.bornAt > opts.maxBotSeconds * 1000 && !bot.gone)
          run('leave', () => leave(bot));
      }
      // A slow server must not pile up work: no new actions while many are still running.
      if (pending.size < opts.maxBots * 2) {
        const n = rnd.int(1, opts.actionsPerSecond);
        for (let k = 0; k < n; k++) act(rnd.weighted(WEIGHTS));
      }
      await sleep(1000);
      peak = peakOf(peak, await snap(false));
      if (Date.now() >= nextSample) {
        nextSample += sampleMs;
        peak = peakOf(peak, await sample('run'));
      }
      elapsed = Math.round((Date.now() - startedAt) / 1000);
      if (elapsed % 10 === 0) {
        print(`  ${elapsed} s: ${bots.size} bots, ${peak.counts.consumers} peak consumers`);
      }
    }
    elapsed = Math.round((Date.now() - startedAt) / 1000);
    await Promise.allSettled([...pending]);
    await Promise.allSettled([...bots].map((b) => leave(b)));
    await settle(baseline);
    await sample('settled');
    // Idle: nothing runs; what RSS the server still holds then is what the verdict is on.
    await sleep((opts.idleSeconds ?? 20) * 1000);
    end = await sample('idle');
    await heapSnapshot('end');
    if (opts.trimProbe) {
      if (await mallocTrim(server.pid)) await sample('trimmed');
      else print('  trim probe: gdb could not call malloc_trim in the server');
    }
  } finally {
    const stopped = await server.stop().catch((err: unknown) => [`server stop: ${String(err)}`]);
    crashes.push(...stopped);
    if (workersClosed > 0 && !stopped.some((c) => c.includes('worker'))) {
      crashes.push(`${workersClosed} media worker(s) died`);
    }
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  }
  const result = { seed: opts.seed, seconds: elapsed, baseline, peak, end, actions, errors };
  return {
    ...result,
    timeline,
    internalErrors,
    crashes,
    gcExposed: globalThis.gc !== undefined,
    rssBoundMiB: opts.rssBoundMiB,
    failures: judge(opts, result, internalErrors, crashes),
  };
}

const MiB = 1024 * 1024;

/**
 * What failed: counts off their baseline, the idle server's RSS over its bound, INTERNAL
 * answers, crashes.
 */
function judge(
  opts: SoakOptions,
  r: { baseline: Snapshot; peak: Snapshot; end: Snapshot; actions: Record<string, number> },
  internalErrors: number,
  crashes: string[],
): string[] {
  const failures: string[] = [];
  for (const name of EXACT_COUNTS) {
    if (r.end.counts[name] !== r.baseline.counts[name]) {
      failures.push(
        `${name}: ${r.end.counts[name]} at the end, ${r.baseline.counts[name]} at baseline`,
      );
    }
  }
  const grew = (r.end.server.rss - r.baseline.server.rss) / MiB;
  if (grew > opts.rssBoundMiB) {
    failures.push(`server RSS grew ${grew.toFixed(1)} MiB (bound ${opts.rssBoundMiB} MiB)`);
  }
  if (internalErrors > 0) failures.push(`${internalErrors} request(s) answered INTERNAL`);
  for (const c of crashes) failures.push(`crash: ${c}`);
  return failures;
}
