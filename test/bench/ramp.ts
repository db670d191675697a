import { windowOf, type BotProcess, type Window } from '../load/controller.ts';
import { CpuMeter, machineBusyMs, udpRcvbufErrors } from '../load/cpu.ts';
import type { SpawnSpec } from '../load/ipc.ts';
import { at, bareDebug } from '../load/bare-debug.ts';

/**
 * Ramps subscribers on one room until loss > maxLossPct, a worker saturates, the machine
 * runs out of CPU, or a cap is hit. Each step: add subscribers, let them settle, measure a
 * window (loss from sequence gaps, worker CPU, bot CPU, server Node CPU).
 */

export interface RampOptions {
  label: string;
  room: string;
  start: number;
  step: number;
  max: number;
  settleMs: number;
  windowMs: number;
  maxLossPct: number;
  /** A worker above this fraction of a core counts as saturated. */
  maxWorkerCpu: number;
  /** Stop when all measured processes together use more than this many cores. */
  maxMachineCpu: number;
  publisher: Omit<SpawnSpec, 'room' | 'subscribers' | 'publishers'>;
  publishers?: number;
  /** A cluster: subscribers join through these nodes in turn (the publisher through the first). */
  urls?: string[];
  /** Milliseconds budget for the whole ramp (bounded run). */
  budgetMs: number;
  shouldStop: () => boolean;
}

export interface RampStep {
  subscribers: number;
  consumers: number;
  flowing: number;
  stalled: number;
  failed: number;
  win: Window;
  workerCpu: number[];
  serverCpu: number;
  /** Publisher packets the bots failed to send, and kernel UDP receive-buffer drops, in the window. */
  sendErrors: number;
  udpDrops: number;
  /** Cores busy with anything else on the machine (other work, the controller) during the window. */
  otherCpu: number;
  ok: boolean;
}

export interface RampResult {
  label: string;
  steps: RampStep[];
  best: RampStep | undefined;
  limit: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function ramp(
  bots: BotProcess,
  workerPids: number[],
  serverPid: number | number[] | undefined,
  o: RampOptions,
): Promise<RampResult> {
  const t0 = Date.now();
  const steps: RampStep[] = [];
  const pub = await bots.spawn({
    ...o.publisher,
    room: o.room,
    publishers: o.publishers ?? 1,
    subscribers: 0,
  });
  if (pub.ok < (o.publishers ?? 1)) throw new Error(`publisher failed: ${pub.errors.join('; ')}`);
  let subs = 0;
  let limit = `reached the cap of ${o.max} subscribers`;
  while (subs < o.max) {
    if (o.shouldStop()) {
      limit = 'interrupted';
      break;
    }
    if (Date.now() - t0 > o.budgetMs) {
      limit = `time budget (${Math.round(o.budgetMs / 1000)} s) used up`;
      break;
    }
    const target = Math.min(o.max, subs === 0 ? o.start : subs + o.step);
    const r = await bots.spawn({
      ...o.publisher,
      room: o.room,
      publishers: 0,
      subscribers: target - subs,
      concurrency: 10,
      ...(o.urls && { urls: o.urls }),
    });
    subs = target;
    if (bareDebug) console.log(`[bare-debug] ${at()} ${r.ok} joined in ${r.ms.toFixed(0)} ms`);
    await sleep(o.settleMs);
    let step = await measure(bots, workerPids, serverPid, o, r.failed);
    // A lossy window while something else loaded the machine is measured again (twice at
    // most): other work on a 2-core box, not the SFU, starves the worker or the bots.
    for (let retry = 0; retry < 2 && !step.ok && step.otherCpu > 0.25 && !o.shouldStop(); retry++) {
      printStep(o.label, step);
      console.log(`[${o.label}] other load on the machine during that window: measuring again`);
      step = await measure(bots, workerPids, serverPid, o, r.failed);
    }
    const { win, stalled, workerCpu, serverCpu } = step;
    const lossy = !step.ok && r.failed === 0;
    steps.push(step);
    printStep(o.label, step);
    if (r.failed > 0) {
      limit = `bots failed to join (${r.errors[0] ?? '?'})`;
      break;
    }
    if (lossy) {
      limit =
        `loss ${win.lossPct.toFixed(2)}% / ${stalled} stalled streams` +
        (step.otherCpu > 0.25
          ? ` (other load on the machine: ${step.otherCpu.toFixed(2)} cores)`
          : '');
      break;
    }
    const maxWorker = Math.max(0, ...workerCpu);
    if (maxWorker > o.maxWorkerCpu) {
      limit = `worker saturated (${(maxWorker * 100).toFixed(0)}% of a core)`;
      break;
    }
    const machine = workerCpu.reduce((x, y) => x + y, 0) + serverCpu + win.botCpu;
    if (machine > o.maxMachineCpu) {
      limit = `machine CPU (${machine.toFixed(2)} cores in use: bots ${win.botCpu.toFixed(2)})`;
      break;
    }
  }
  const best = [...steps].reverse().find((s) => s.ok);
  return { label: o.label, steps, best, limit };
}

async function measure(
  bots: BotProcess,
  workerPids: number[],
  serverPid: number | number[] | undefined,
  o: RampOptions,
  joinFailures: number,
): Promise<RampStep> {
  await bots.stats(); // resets the stall baseline
  const serverPids = serverPid === undefined ? [] : [serverPid].flat();
  const meter = new CpuMeter([...workerPids, ...serverPids]);
  const drops0 = udpRcvbufErrors();
  const busy0 = machineBusyMs();
  const w0 = performance.now();
  const a = await bots.stats();
  await sleep(o.windowMs);
  const b = await bots.stats();
  const udpDrops = udpRcvbufErrors() - drops0;
  const machineCpu = (machineBusyMs() - busy0) / (performance.now() - w0);
  const cpu = meter.sample();
  const workerCpu = cpu.slice(0, workerPids.length);
  const serverCpu = cpu.slice(workerPids.length).reduce((x, y) => x + y, 0);
  const win = windowOf(a, b);
  const lossy = win.lossPct > o.maxLossPct || b.stalled > Math.max(0, 0.01 * b.streams);
  return {
    subscribers: b.subscribers,
    consumers: b.streams,
    flowing: b.streamsFlowing,
    stalled: b.stalled,
    failed: b.failed,
    win,
    workerCpu,
    serverCpu,
    sendErrors: b.sendErrors - a.sendErrors,
    udpDrops,
    otherCpu: Math.max(
      0,
      machineCpu - workerCpu.reduce((x, y) => x + y, 0) - serverCpu - win.botCpu,
    ),
    ok: !lossy && joinFailures === 0,
  };
}

export function printStep(label: string, s: RampStep): void {
  const w = s.workerCpu.map((c) => `${(c * 100).toFixed(0)}%`).join('+');
  console.log(
    `[${label}] subs ${String(s.subscribers).padStart(4)}  consumers ${String(s.consumers).padStart(4)}` +
      `  loss ${s.win.lossPct.toFixed(2).padStart(5)}%  stalled ${s.stalled}` +
      `  rx ${s.win.rxMbps.toFixed(1).padStart(6)} Mbit/s  worker ${w}  server ${(s.serverCpu * 100).toFixed(0)}%` +
      `  bots ${(s.win.botCpu * 100).toFixed(0)}%  other ${(s.otherCpu * 100).toFixed(0)}%` +
      (s.udpDrops || s.sendErrors ? `  udp drops ${s.udpDrops} send errors ${s.sendErrors}` : '') +
      (s.ok ? '' : '  FAIL'),
  );
}

/** Consumers per fully used worker core, extrapolated from a step's worker CPU. */
export function consumersPerCore(s: RampStep): number {
  const cpu = s.workerCpu.reduce((x, y) => x + y, 0);
  return cpu > 0 ? s.consumers / cpu : NaN;
}

/** Worker CPU (% of a core) per forwarded Mbit/s. */
export function cpuPerMbps(s: RampStep): number {
  const cpu = s.workerCpu.reduce((x, y) => x + y, 0);
  return s.win.rxMbps > 0 ? (100 * cpu) / s.win.rxMbps : NaN;
}
