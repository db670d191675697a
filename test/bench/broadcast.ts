import { parseArgs } from 'node:util';
import { BotProcess } from '../load/controller.ts';
import { machineInfo } from '../load/cpu.ts';
import { consumersPerCore, cpuPerMbps, ramp, type RampResult, type RampStep } from './ramp.ts';
import { startTuttiServer } from './tutti-server.ts';
import { watchInterrupt } from '../load/interrupt.ts';

/**
 * npm run bench:broadcast — one screen share (VP8 ~500 kbps, video only) to many viewers
 * through Tutti. Viewers are ramped until loss > 1%, a worker saturates or the machine runs
 * out of CPU.
 *
 * Without --workers: one run with the server's default worker count, the room on one router.
 * With --workers N (N ≥ 2), two runs in the same sitting on N workers: first the room on a
 * single router (maxConsumersPerRouter above the cap), then spread over every worker
 * (maxConsumersPerRouter = --per-router, so once each worker's router holds that many the
 * viewers alternate between them); it prints viewers and CPU per worker and the worker CPU
 * per viewer of the spread run against the single-router one (goal: ≥ 0.9 efficiency).
 */

const { values: args } = parseArgs({
  options: {
    start: { type: 'string', default: '50' },
    step: { type: 'string', default: '50' },
    max: { type: 'string', default: '800' },
    settle: { type: 'string', default: '2500' },
    window: { type: 'string', default: '4000' },
    workers: { type: 'string', default: '0' },
    'per-router': { type: 'string', default: '20' },
    budget: { type: 'string', default: '180' },
  },
});

const interrupted = watchInterrupt('[bench:broadcast] stopping (Ctrl-C again to force)…');
const workers = Number(args.workers);
const spread = workers >= 2;

interface Run {
  result: RampResult;
  /** Viewers (WebRTC consumers) per worker at the end of the run, from /api/health. */
  viewersPerWorker: number[];
}

async function run(label: string, maxConsumersPerRouter: number | undefined): Promise<Run> {
  const server = await startTuttiServer({
    numWorkers: workers,
    env:
      maxConsumersPerRouter === undefined
        ? {}
        : { TUTTI_MEDIA_MAX_CONSUMERS_PER_ROUTER: String(maxConsumersPerRouter) },
  });
  console.log(
    `[${label}] Tutti with ${server.workerPids.length} worker(s): pids ${server.workerPids.join(', ')}` +
      (maxConsumersPerRouter === undefined
        ? ''
        : `, maxConsumersPerRouter ${maxConsumersPerRouter}`),
  );
  try {
    const bots = await BotProcess.start({
      mode: 'tutti',
      url: server.url,
      bindAddress: '127.0.0.1',
      headerExt: 'none',
    });
    try {
      const result = await ramp(bots, server.workerPids, server.pid, {
        label,
        room: 'bench-broadcast',
        start: Number(args.start),
        step: Number(args.step),
        max: Number(args.max),
        settleMs: Number(args.settle),
        windowMs: Number(args.window),
        maxLossPct: 1,
        maxWorkerCpu: 0.95,
        maxMachineCpu: 1.9,
        publisher: { media: 'video', videoSource: 'screen' },
        budgetMs: Number(args.budget) * 1000,
        shouldStop: interrupted,
      });
      const health = (await (await fetch(`${server.url}/api/health`)).json()) as {
        workers: { pid: number; consumers?: number }[];
      };
      const viewersPerWorker = server.workerPids.map(
        (pid) => health.workers.find((w) => w.pid === pid)?.consumers ?? 0,
      );
      return { result, viewersPerWorker };
    } finally {
      await bots.stop();
    }
  } finally {
    await server.stop();
  }
}

const pct = (c: number): string => `${(c * 100).toFixed(0)}%`;
const workerCpu = (s: RampStep): number => s.workerCpu.reduce((x, y) => x + y, 0);
/** Worker CPU (% of a core) per 100 viewers. */
const costPer100 = (s: RampStep): number => (100 * 100 * workerCpu(s)) / s.subscribers;

function summary(label: string, r: Run): void {
  const b = r.result.best;
  if (!b) {
    console.log(`\n[${label}] no step passed (${r.result.limit})`);
    return;
  }
  const used = b.workerCpu.filter((c) => c > 0.05).length;
  console.log(
    `\n[${label}] ${b.subscribers} viewers at ${b.win.lossPct.toFixed(2)}% loss, ${b.win.rxMbps.toFixed(1)} Mbit/s out; ` +
      `workers ${b.workerCpu.map(pct).join(' + ')} (${used} busy); viewers per worker ${r.viewersPerWorker.join(' + ')}; ` +
      `${consumersPerCore(b).toFixed(0)} viewers per worker core, ${cpuPerMbps(b).toFixed(2)} %core per Mbit/s; ` +
      `bots ${pct(b.win.botCpu)}; stopped by: ${r.result.limit}`,
  );
}

console.log(`[bench:broadcast] machine: ${machineInfo()}`);
let exitCode = 0;
try {
  if (!spread) {
    const r = await run('broadcast', undefined);
    summary('broadcast', r);
    if (!r.result.best) exitCode = 1;
  } else {
    const single = await run('single-router', 1_000_000);
    summary('single-router', single);
    const multi = interrupted() ? undefined : await run('spread', Number(args['per-router']));
    if (multi) summary('spread', multi);
    if (!single.result.best || !multi?.result.best) exitCode = 1;
    else {
      // Same viewer counts on both sides: efficiency = single cost per viewer ÷ spread cost.
      console.log('\n[bench:broadcast] worker CPU per 100 viewers (single router vs spread):');
      const ratios: number[] = [];
      for (const m of multi.result.steps.filter((s) => s.ok)) {
        const s = single.result.steps.find((x) => x.ok && x.subscribers === m.subscribers);
        if (!s) continue;
        const ratio = costPer100(s) / costPer100(m);
        ratios.push(ratio);
        console.log(
          `  ${String(m.subscribers).padStart(4)} viewers: single ${costPer100(s).toFixed(2)} %core ` +
            `(${s.workerCpu.map(pct).join(' + ')}), spread ${costPer100(m).toFixed(2)} %core ` +
            `(${m.workerCpu.map(pct).join(' + ')}), efficiency ${ratio.toFixed(2)}`,
        );
      }
      ratios.sort((a, b) => a - b);
      const median = ratios[Math.floor(ratios.length / 2)];
      console.log(
        median === undefined
          ? '[bench:broadcast] no viewer count passed on both sides'
          : `[bench:broadcast] efficiency of the spread room (median over ${ratios.length} steps): ${median.toFixed(2)} (goal ≥ 0.9)`,
      );
    }
  }
} catch (err) {
  console.error(`[bench:broadcast] failed: ${err instanceof Error ? err.message : String(err)}`);
  exitCode = 1;
}
process.exit(exitCode);
