import { parseArgs } from 'node:util';
import { BareSfu } from '../load/bare-sfu.ts';
import { BotProcess, percentile } from '../load/controller.ts';
import { machineInfo } from '../load/cpu.ts';
import type { HeaderExtProfile } from '../load/bots.ts';
import { consumersPerCore, cpuPerMbps, ramp, type RampOptions, type RampResult } from './ramp.ts';
import { startTuttiServer } from './tutti-server.ts';
import { watchInterrupt } from '../load/interrupt.ts';

/**
 * npm run bench:sfu — forwarding capacity of one worker: one room, one publisher (VP8
 * ~500 kbps + Opus), subscribers ramped until loss > 1% or the worker saturates; first on
 * bare mediasoup (baseline), then through Tutti; prints both and the ratio.
 */

const { values: args } = parseArgs({
  options: {
    start: { type: 'string', default: '40' },
    step: { type: 'string', default: '40' },
    max: { type: 'string', default: '600' },
    settle: { type: 'string', default: '2500' },
    window: { type: 'string', default: '4000' },
    'header-ext': { type: 'string', default: 'none' },
    only: { type: 'string' },
    budget: { type: 'string', default: '150' },
  },
});

const interrupted = watchInterrupt('[bench:sfu] stopping (Ctrl-C again to force)…');

const headerExt = args['header-ext'] as HeaderExtProfile;
const base: Omit<RampOptions, 'label'> = {
  room: 'bench-sfu',
  start: Number(args.start),
  step: Number(args.step),
  max: Number(args.max),
  settleMs: Number(args.settle),
  windowMs: Number(args.window),
  maxLossPct: 1,
  maxWorkerCpu: 0.95,
  maxMachineCpu: 1.9,
  publisher: { media: 'av' },
  budgetMs: Number(args.budget) * 1000,
  shouldStop: interrupted,
};

async function runBare(): Promise<RampResult> {
  const bots = await BotProcess.start({ mode: 'bare', bindAddress: '127.0.0.1', headerExt });
  const sfu = await BareSfu.start((peer, c) => bots.askNewConsumer(peer, c));
  bots.attachBare(sfu);
  try {
    // The "server" of the baseline is this process: it hosts mediasoup's Node side.
    return await ramp(bots, [sfu.worker.pid], process.pid, { ...base, label: 'bare' });
  } finally {
    await bots.stop();
    sfu.close();
  }
}

async function runTutti(): Promise<RampResult> {
  const server = await startTuttiServer({ numWorkers: 1 });
  try {
    const bots = await BotProcess.start({
      mode: 'tutti',
      url: server.url,
      bindAddress: '127.0.0.1',
      headerExt,
    });
    try {
      return await ramp(bots, server.workerPids, server.pid, { ...base, label: 'tutti' });
    } finally {
      await bots.stop();
    }
  } finally {
    await server.stop();
  }
}

function summary(r: RampResult): string {
  const b = r.best;
  if (!b) return `${r.label.padEnd(6)} no step passed (${r.limit})`;
  const w = b.workerCpu.reduce((x, y) => x + y, 0);
  return (
    `${r.label.padEnd(6)} ${String(b.subscribers).padStart(5)} subs ${String(b.consumers).padStart(5)} consumers` +
    ` at ${b.win.lossPct.toFixed(2)}% loss | worker ${(w * 100).toFixed(0)}% | ` +
    `${consumersPerCore(b).toFixed(0)} consumers/core | ${cpuPerMbps(b).toFixed(2)} %core per Mbit/s |` +
    ` ${b.win.rxMbps.toFixed(1)} Mbit/s | bots ${(b.win.botCpu * 100).toFixed(0)}% | stopped by: ${r.limit}`
  );
}

console.log(`[bench:sfu] machine: ${machineInfo()}`);
console.log(
  `[bench:sfu] header extensions: ${headerExt}; steps +${base.step} subs, ${base.windowMs} ms windows`,
);
const results: RampResult[] = [];
if (args.only !== 'tutti' && !interrupted()) results.push(await runBare());
if (args.only !== 'bare' && !interrupted()) results.push(await runTutti());
console.log('\n[bench:sfu] results (best step at ≤ 1% loss):');
for (const r of results) console.log('  ' + summary(r));
const bareRun = results.find((r) => r.label === 'bare');
const tuttiRun = results.find((r) => r.label === 'tutti');
const bare = bareRun?.best;
const tutti = tuttiRun?.best;
if (bareRun && tuttiRun && bare && tutti) {
  const capRatio = tutti.consumers / bare.consumers;
  // Efficiency: at each subscriber count both sides passed, worker CPU of the baseline over
  // Tutti's; the median of those is robust to one noisy window.
  const perStep: number[] = [];
  for (const t of tuttiRun.steps) {
    const b = bareRun.steps.find((s) => s.ok && s.subscribers === t.subscribers);
    const tc = t.workerCpu.reduce((x, y) => x + y, 0);
    const bc = b ? b.workerCpu.reduce((x, y) => x + y, 0) : 0;
    if (t.ok && b && tc > 0.02 && bc > 0.02) perStep.push(bc / tc);
  }
  const effRatio = perStep.length > 0 ? percentile(perStep, 50) : NaN;
  // Subscribers at ≤ 1% loss compare the SFUs only when both ramps ended on the SFU side
  // (loss or a saturated worker), not on the bots' or the machine's CPU or the cap.
  const sfuBound = (r: RampResult): boolean =>
    r.limit.startsWith('loss') || r.limit.startsWith('worker saturated');
  const capText =
    sfuBound(bareRun) && sfuBound(tuttiRun)
      ? capRatio.toFixed(2)
      : `${capRatio.toFixed(2)} (not an SFU comparison: a ramp ended on the machine's CPU or the cap)`;
  console.log(
    `  ratio Tutti/baseline: capacity (subscribers at ≤ 1% loss) ${capText}; ` +
      `worker CPU efficiency (median over ${perStep.length} common steps) ${effRatio.toFixed(2)} (goal ≥ 0.95)`,
  );
  const contended = [...bareRun.steps, ...tuttiRun.steps].filter((s) => s.otherCpu > 0.25).length;
  if (contended > 0) {
    console.log(
      `  note: ${contended} window(s) ran while other work used > 0.25 cores of this machine ("other" above); ` +
        'the capacity limit may be the machine, not the SFU',
    );
  }
}
process.exit(0);
