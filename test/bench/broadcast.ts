import { parseArgs } from 'node:util';
import { BotProcess } from '../load/controller.ts';
import { machineInfo } from '../load/cpu.ts';
import { consumersPerCore, cpuPerMbps, ramp } from './ramp.ts';
import { startTuttiServer } from './tutti-server.ts';
import { watchInterrupt } from '../load/interrupt.ts';

/**
 * npm run bench:broadcast — one screen share (VP8 ~500 kbps, video only) to many viewers
 * through Tutti with the server's default worker count (one per core). Viewers are ramped
 * until loss > 1%, the room's worker saturates or the machine runs out of CPU. Tutti puts a
 * room on one router (one worker): the CPU of every worker is printed so the spread (or
 * its absence) is visible.
 */

const { values: args } = parseArgs({
  options: {
    start: { type: 'string', default: '50' },
    step: { type: 'string', default: '50' },
    max: { type: 'string', default: '800' },
    settle: { type: 'string', default: '2500' },
    window: { type: 'string', default: '4000' },
    workers: { type: 'string', default: '0' },
    budget: { type: 'string', default: '180' },
  },
});

const interrupted = watchInterrupt('[bench:broadcast] stopping (Ctrl-C again to force)…');

console.log(`[bench:broadcast] machine: ${machineInfo()}`);
const server = await startTuttiServer({ numWorkers: Number(args.workers) });
console.log(
  `[bench:broadcast] Tutti with ${server.workerPids.length} worker(s): pids ${server.workerPids.join(', ')}`,
);
let exitCode = 0;
try {
  const bots = await BotProcess.start({
    mode: 'tutti',
    url: server.url,
    bindAddress: '127.0.0.1',
    headerExt: 'none',
  });
  try {
    const r = await ramp(bots, server.workerPids, server.pid, {
      label: 'broadcast',
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
    const b = r.best;
    if (b) {
      const used = b.workerCpu.filter((c) => c > 0.05).length;
      console.log(
        `\n[bench:broadcast] ${b.subscribers} viewers at ${b.win.lossPct.toFixed(2)}% loss, ${b.win.rxMbps.toFixed(1)} Mbit/s out; ` +
          `workers ${b.workerCpu.map((c) => `${(c * 100).toFixed(0)}%`).join(' + ')} (${used} busy); ` +
          `${consumersPerCore(b).toFixed(0)} viewers per worker core, ${cpuPerMbps(b).toFixed(2)} %core per Mbit/s; ` +
          `bots ${(b.win.botCpu * 100).toFixed(0)}%; stopped by: ${r.limit}`,
      );
    } else {
      console.log(`\n[bench:broadcast] no step passed (${r.limit})`);
      exitCode = 1;
    }
  } finally {
    await bots.stop();
  }
} catch (err) {
  console.error(`[bench:broadcast] failed: ${err instanceof Error ? err.message : String(err)}`);
  exitCode = 1;
} finally {
  await server.stop();
}
process.exit(exitCode);
