import { parseArgs } from 'node:util';
import os from 'node:os';
import { BareSfu } from '../load/bare-sfu.ts';
import { BotProcess, percentile } from '../load/controller.ts';
import { machineInfo } from '../load/cpu.ts';
import type { HeaderExtProfile, LoadProfile } from '../load/bots.ts';
import { capProcess, cgroupUnavailable, type CpuCap } from './cgroup.ts';
import { perfTopSymbols } from './perf-record.ts';
import { consumersPerCore, cpuPerMbps, ramp, type RampOptions, type RampResult } from './ramp.ts';
import { startTuttiServer } from './tutti-server.ts';
import { watchInterrupt } from '../load/interrupt.ts';
import type { FeedbackMode } from '../load/feedback.ts';

/**
 * npm run bench:sfu — forwarding capacity of one worker: one room, one publisher (VP8 +
 * Opus), subscribers ramped until loss > 1% or the worker saturates; bare mediasoup
 * (baseline), then Tutti, `--runs` times; prints both and the ratios.
 *
 * `--cap 0.3` puts each worker (the baseline's and Tutti's alike) in a cgroup of its own
 * capped at 0.3 of a core, so the worker runs out of CPU before the bots do: the ramp then
 * ends on the worker's loss, and capacity ÷ cap is a *measured* consumers-per-core figure,
 * printed beside the extrapolation from the uncapped CPU share.
 */

const { values: args } = parseArgs({
  options: {
    start: { type: 'string', default: '40' },
    step: { type: 'string', default: '40' },
    max: { type: 'string', default: '600' },
    settle: { type: 'string', default: '2500' },
    window: { type: 'string', default: '4000' },
    'header-ext': { type: 'string', default: 'none' },
    profile: { type: 'string', default: 'light' },
    /** Subscribers' RTCP feedback (chrome profile): chrome (default), none, or both in turn. */
    feedback: { type: 'string' },
    cap: { type: 'string' },
    runs: { type: 'string', default: '3' },
    perf: { type: 'string' },
    only: { type: 'string' },
    budget: { type: 'string', default: '150' },
    /** Tutti's downlink guard (media.downlinkGuard): on, off, or both (a third ramp per run). */
    guard: { type: 'string', default: 'on' },
    /** Loopback address of the servers (HTTP and media) and the bots. */
    host: { type: 'string', default: '127.0.0.1' },
  },
});

function fail(msg: string): never {
  console.error(`[bench:sfu] ${msg}`);
  process.exit(2);
}
const headerExt = args['header-ext'] as HeaderExtProfile;
if (!['none', 'transport-cc'].includes(headerExt))
  fail('--header-ext must be none or transport-cc');
const profile = args.profile as LoadProfile;
if (!['light', 'chrome'].includes(profile)) fail('--profile must be light or chrome');
const feedbackArg = args.feedback ?? (profile === 'chrome' ? 'chrome' : 'none');
if (!['none', 'chrome', 'both'].includes(feedbackArg))
  fail('--feedback must be none, chrome or both');
if (profile !== 'chrome' && feedbackArg !== 'none') fail('--feedback needs --profile chrome');
const feedbackModes: FeedbackMode[] =
  feedbackArg === 'both' ? ['none', 'chrome'] : [feedbackArg as FeedbackMode];
const cap = args.cap === undefined ? undefined : Number(args.cap);
if (cap !== undefined && !(cap >= 0.05 && cap <= 4)) fail('--cap must be 0.05..4 cores');
if (cap !== undefined) {
  const why = cgroupUnavailable();
  if (why) fail(`--cap: ${why}`);
}
const guardArg = args.guard;
if (!['on', 'off', 'both'].includes(guardArg)) fail('--guard must be on, off or both');
const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 9) fail('--runs must be 1..9');
const perfSeconds = args.perf === undefined ? undefined : Number(args.perf);
if (perfSeconds !== undefined && !(perfSeconds >= 1 && perfSeconds <= 60))
  fail('--perf takes seconds, 1..60');

const interrupted = watchInterrupt('[bench:sfu] stopping (Ctrl-C again to force)…');

const base: Omit<RampOptions, 'label'> = {
  room: 'bench-sfu',
  start: Number(args.start),
  step: Number(args.step),
  max: Number(args.max),
  settleMs: Number(args.settle),
  windowMs: Number(args.window),
  maxLossPct: 1,
  // Capped, the worker sits at its quota once saturated: the ramp ends on loss instead.
  maxWorkerCpu: cap === undefined ? 0.95 : Infinity,
  maxMachineCpu: 1.9,
  publisher: { media: 'av' },
  budgetMs: Number(args.budget) * 1000,
  shouldStop: interrupted,
};

interface Run {
  result: RampResult;
  throttledMs?: number;
  perf?: string;
}

/** Caps the workers (with --cap), ramps, optionally profiles the last step, uncaps. */
async function rampCapped(
  bots: BotProcess,
  workerPids: number[],
  serverPid: number,
  label: string,
): Promise<Run> {
  const caps: CpuCap[] =
    cap === undefined ? [] : workerPids.map((pid, i) => capProcess(pid, cap, `${label}-w${i}`));
  try {
    const result = await ramp(bots, workerPids, serverPid, { ...base, label });
    const out: Run = { result };
    if (caps.length > 0) out.throttledMs = caps.reduce((n, c) => n + c.throttled().throttledMs, 0);
    if (perfSeconds !== undefined && label.startsWith('tutti') && workerPids[0]) {
      console.log(`[${label}] perf record of worker ${workerPids[0]} for ${perfSeconds} s…`);
      out.perf = await perfTopSymbols(workerPids[0], perfSeconds).catch((e: unknown) => String(e));
    }
    return out;
  } finally {
    for (const c of caps) c.release();
  }
}

async function runBare(label: string, feedback: FeedbackMode): Promise<Run> {
  const bots = await BotProcess.start({
    mode: 'bare',
    bindAddress: args.host,
    headerExt,
    profile,
    feedback,
  });
  const sfu = await BareSfu.start((peer, c) => bots.askNewConsumer(peer, c), undefined, args.host);
  bots.attachBare(sfu);
  try {
    // The "server" of the baseline is this process: it hosts mediasoup's Node side.
    return await rampCapped(bots, [sfu.worker.pid], process.pid, label);
  } finally {
    await bots.stop();
    sfu.close();
  }
}

async function runTutti(label: string, feedback: FeedbackMode, guard: boolean): Promise<Run> {
  const server = await startTuttiServer({
    numWorkers: 1,
    host: args.host,
    env: { TUTTI_MEDIA_DOWNLINK_GUARD: String(guard) },
  });
  try {
    const bots = await BotProcess.start({
      mode: 'tutti',
      url: server.url,
      bindAddress: args.host,
      headerExt,
      profile,
      feedback,
    });
    try {
      return await rampCapped(bots, server.workerPids, server.pid, label);
    } finally {
      await bots.stop();
    }
  } finally {
    await server.stop();
  }
}

const workerCpuOf = (s: { workerCpu: number[] }): number => s.workerCpu.reduce((x, y) => x + y, 0);

const sfuBound = (r: RampResult): boolean =>
  r.limit.startsWith('loss') || r.limit.startsWith('worker saturated');

function summary(run: Run): string {
  const r = run.result;
  const b = r.best;
  if (!b) return `${r.label.padEnd(8)} no step passed (${r.limit})`;
  // Measured only when the capped worker, not the machine or a cap of the ramp, ended it.
  const measured =
    cap === undefined
      ? ''
      : sfuBound(r)
        ? ` | measured ${(b.consumers / cap).toFixed(0)} consumers/core (÷ cap ${cap})`
        : ` | measured ≥ ${(b.consumers / cap).toFixed(0)} consumers/core (the worker never ran out)`;
  return (
    `${r.label.padEnd(8)} ${String(b.subscribers).padStart(5)} subs ${String(b.consumers).padStart(5)} consumers` +
    ` at ${b.win.lossPct.toFixed(2)}% loss | worker ${(workerCpuOf(b) * 100).toFixed(0)}%${measured} | ` +
    `extrapolated ${consumersPerCore(b).toFixed(0)} consumers/core | ${cpuPerMbps(b).toFixed(2)} %core per Mbit/s |` +
    ` ${b.win.rxMbps.toFixed(1)} Mbit/s | bots ${(b.win.botCpu * 100).toFixed(0)}%` +
    (run.throttledMs !== undefined ? ` | throttled ${(run.throttledMs / 1000).toFixed(1)} s` : '') +
    ` | stopped by: ${r.limit}`
  );
}

/**
 * Worker CPU efficiency of one pair: at each subscriber count both passed, baseline CPU over
 * Tutti's, median. Capped, steps where either worker is near its quota are left out (both
 * read ≈ the quota there, which says nothing about efficiency).
 */
function efficiency(bare: RampResult, tutti: RampResult): { ratio: number; steps: number } {
  const perStep: number[] = [];
  const near = cap === undefined ? Infinity : 0.85 * cap;
  for (const t of tutti.steps) {
    const b = bare.steps.find((s) => s.ok && s.subscribers === t.subscribers);
    const tc = workerCpuOf(t);
    const bc = b ? workerCpuOf(b) : 0;
    if (t.ok && b && tc > 0.02 && bc > 0.02 && tc < near && bc < near) perStep.push(bc / tc);
  }
  return { ratio: perStep.length > 0 ? percentile(perStep, 50) : NaN, steps: perStep.length };
}

console.log(`[bench:sfu] machine: ${machineInfo()}`);
console.log(
  `[bench:sfu] profile: ${profile}` +
    (profile === 'light'
      ? ` (header extensions: ${headerExt})`
      : ` (tcc + abs-send-time + RTX offered; 3 simulcast layers, tiles pick one; subscriber feedback: ${feedbackModes.join(', then ')})`) +
    `; worker cap: ${cap === undefined ? 'none (extrapolated capacity only)' : `${cap} core (cgroup v1, 10 ms period)`}` +
    `; ${runs} run(s); steps +${base.step} subs, ${base.windowMs} ms windows; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
);
interface Pair {
  bare?: Run;
  /** Tutti as shipped (downlink guard on). */
  tutti?: Run;
  /** Tutti with media.downlinkGuard off (`--guard off|both`). */
  unguarded?: Run;
}

/** `--guard both`: what the guard's bwe trace costs: unguarded worker CPU over guarded, per step. */
function guardCost(pairs: Pair[]): void {
  const ratios: number[] = [];
  for (const [i, p] of pairs.entries()) {
    if (!p.tutti || !p.unguarded) continue;
    const e = efficiency(p.unguarded.result, p.tutti.result);
    if (Number.isFinite(e.ratio)) ratios.push(e.ratio);
    console.log(
      `  run ${i + 1}: guard on/off worker CPU efficiency ${e.ratio.toFixed(2)} (median over ${e.steps} common steps; < 1: the guard costs)`,
    );
  }
  if (ratios.length > 0)
    console.log(
      `  guard on/off efficiency, median of ${ratios.length}: ${percentile(ratios, 50).toFixed(2)} [${ratios.map((r) => r.toFixed(2)).join(', ')}]`,
    );
}

/** One set of run pairs with one kind of subscriber feedback, and its summary. */
async function bench(feedback: FeedbackMode, tag: string): Promise<void> {
  const pairs: Pair[] = [];
  for (let i = 1; i <= runs && !interrupted(); i++) {
    const pair: Pair = {};
    const suffix = runs > 1 ? `#${i}` : '';
    if (args.only !== 'tutti' && !interrupted())
      pair.bare = await runBare(`bare${tag}${suffix}`, feedback);
    if (args.only !== 'bare' && guardArg !== 'off' && !interrupted())
      pair.tutti = await runTutti(`tutti${tag}${suffix}`, feedback, true);
    if (args.only !== 'bare' && guardArg !== 'on' && !interrupted())
      pair.unguarded = await runTutti(`tutti-noguard${tag}${suffix}`, feedback, false);
    pairs.push(pair);
  }
  console.log(
    `\n[bench:sfu] results${tag ? ` (feedback ${feedback})` : ''} (best step at ≤ 1% loss), load average now ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}:`,
  );
  for (const p of pairs)
    for (const r of [p.bare, p.tutti, p.unguarded]) if (r) console.log('  ' + summary(r));
  if (guardArg === 'both') guardCost(pairs);
  const effs: number[] = [];
  const capRatios: number[] = [];
  for (const [i, p] of pairs.entries()) {
    if (!p.bare?.result.best || !p.tutti?.result.best) continue;
    const e = efficiency(p.bare.result, p.tutti.result);
    const capRatio = p.tutti.result.best.consumers / p.bare.result.best.consumers;
    const bound = sfuBound(p.bare.result) && sfuBound(p.tutti.result);
    if (Number.isFinite(e.ratio)) effs.push(e.ratio);
    if (bound) capRatios.push(capRatio);
    console.log(
      `  run ${i + 1}: Tutti/baseline worker CPU efficiency ${e.ratio.toFixed(2)} (median over ${e.steps} common steps); ` +
        `capacity ${capRatio.toFixed(2)}${bound ? '' : ' (not an SFU comparison: a ramp ended on the machine, the cap of subscribers or the budget)'}`,
    );
  }
  if (effs.length > 0) {
    console.log(
      `  ratio Tutti/baseline: worker CPU efficiency, median of ${effs.length} run(s): ${percentile(effs, 50).toFixed(2)} ` +
        `[${effs.map((e) => e.toFixed(2)).join(', ')}] (goal ≥ 0.95)` +
        (capRatios.length > 0
          ? `; measured capacity ratio, median of ${capRatios.length}: ${percentile(capRatios, 50).toFixed(2)} [${capRatios.map((e) => e.toFixed(2)).join(', ')}]`
          : ''),
    );
  }
  const contended = pairs
    .flatMap((p) => [...(p.bare?.result.steps ?? []), ...(p.tutti?.result.steps ?? [])])
    .filter((s) => s.otherCpu > 0.25).length;
  if (contended > 0) {
    console.log(
      `  note: ${contended} window(s) ran while other work used > 0.25 cores of this machine ("other" above); ` +
        'these numbers are a smoke run, not a measurement: run on a quiet machine',
    );
  }
  for (const p of pairs) {
    if (p.tutti?.perf)
      console.log(
        `\n[bench:sfu] ${p.tutti.result.label}: worker top symbols (self time, last step)\n${p.tutti.perf}`,
      );
  }
}

for (const fb of feedbackModes) {
  if (interrupted()) break;
  await bench(fb, feedbackModes.length > 1 ? `-${fb}` : '');
}
process.exit(0);
