import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startOwnRedis, type OwnRedis } from '../../server/test/helpers/redisServer.ts';
import { BotProcess, percentile } from '../load/controller.ts';
import { machineInfo } from '../load/cpu.ts';
import { consumersPerCore, cpuPerMbps, ramp, type RampResult, type RampStep } from './ramp.ts';
import { ensureRoom } from '../load/signaling.ts';
import { startTuttiServer, type TuttiServer } from './tutti-server.ts';
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
 *
 * With --nodes N (N ≥ 2): the spread run is a cluster of N server processes (127.0.0.81…,
 * one Redis of its own, one store) with the viewers joining through every node in turn (and
 * with --workers, over every worker of each); the single-router run is one node as above.
 * Then the join latency: viewers join one at a time through the publisher's node and
 * through another node; time to first packet, p50 of each and the difference (goal ≤ 50 ms).
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
    nodes: { type: 'string', default: '1' },
    joins: { type: 'string', default: '10' },
    /** With --nodes: only the join latency (no ramps). */
    'join-only': { type: 'boolean', default: false },
  },
});

const interrupted = watchInterrupt('[bench:broadcast] stopping (Ctrl-C again to force)…');
const workers = Number(args.workers);
const nodes = Math.max(1, Number(args.nodes));
const spread = workers >= 2 || nodes >= 2;
const ROOM = 'bench-broadcast';

interface Run {
  result: RampResult;
  /** Viewers (WebRTC consumers) per worker at the end of the run, from /api/health. */
  viewersPerWorker: number[];
}

/** One node, or a cluster of `count` nodes sharing a Redis of their own and one store. */
async function startNodes(
  count: number,
  env: Record<string, string>,
): Promise<{ servers: TuttiServer[]; stop(): Promise<void> }> {
  const numWorkers = workers;
  if (count === 1) {
    const server = await startTuttiServer({ numWorkers, env });
    return { servers: [server], stop: () => server.stop() };
  }
  const redis: OwnRedis = await startOwnRedis();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tutti-bench-cluster-'));
  const servers: TuttiServer[] = [];
  // One cluster secret for all nodes: it signs their RPCs (without it no pipe is negotiated).
  const secret = randomBytes(24).toString('base64url');
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (let i = 1; i <= count; i++) {
      servers.push(
        await startTuttiServer({
          numWorkers,
          host: `127.0.0.8${i}`,
          dataDir,
          env: {
            ...env,
            TUTTI_REDIS_URL: redis.url,
            TUTTI_FILES_SECRET: secret,
            TUTTI_CLUSTER_NODE_ID: `bench-media-${i}`,
          },
        }),
      );
      // Rooms are read from the store at start-up: the others must find it there.
      if (i === 1) await ensureRoom(servers[0]!.wsUrl, ROOM);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { servers, stop };
}

async function run(
  label: string,
  maxConsumersPerRouter: number | undefined,
  nodeCount = 1,
): Promise<Run> {
  const cluster = await startNodes(
    nodeCount,
    maxConsumersPerRouter === undefined
      ? {}
      : { TUTTI_MEDIA_MAX_CONSUMERS_PER_ROUTER: String(maxConsumersPerRouter) },
  );
  const { servers } = cluster;
  const server = servers[0]!;
  const workerPids = servers.flatMap((s) => s.workerPids);
  console.log(
    `[${label}] Tutti on ${servers.length} node(s) with ${workerPids.length} worker(s): pids ${workerPids.join(', ')}` +
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
      const result = await ramp(
        bots,
        workerPids,
        servers.map((s) => s.pid),
        {
          label,
          room: ROOM,
          start: Number(args.start),
          step: Number(args.step),
          max: Number(args.max),
          settleMs: Number(args.settle),
          windowMs: Number(args.window),
          maxLossPct: 1,
          maxWorkerCpu: 0.95,
          maxMachineCpu: 1.9,
          publisher: { media: 'video', videoSource: 'screen' },
          ...(servers.length > 1 && { urls: servers.map((s) => s.url) }),
          budgetMs: Number(args.budget) * 1000,
          shouldStop: interrupted,
        },
      );
      const viewersPerWorker: number[] = [];
      for (const s of servers) {
        const health = (await (await fetch(`${s.url}/api/health/detail`)).json()) as {
          workers?: { pid: number; consumers?: number }[];
        };
        for (const pid of s.workerPids)
          viewersPerWorker.push(health.workers?.find((w) => w.pid === pid)?.consumers ?? 0);
      }
      return { result, viewersPerWorker };
    } finally {
      await bots.stop();
    }
  } finally {
    await cluster.stop();
  }
}

/**
 * Viewers join one at a time, alternately through the publisher's node and another one:
 * time from the join's start to the first video packet, p50 per side.
 */
async function joinLatency(): Promise<void> {
  const cluster = await startNodes(nodes, {});
  const [first, other] = cluster.servers;
  try {
    const bots = await BotProcess.start({
      mode: 'tutti',
      url: first!.url,
      bindAddress: '127.0.0.1',
      headerExt: 'none',
    });
    try {
      const base = { room: ROOM, media: 'video' as const, videoSource: 'screen' as const };
      await bots.spawn({ ...base, publishers: 1, subscribers: 0 });
      const same: number[] = [];
      const cross: number[] = [];
      await bots.stats();
      for (let i = 0; i < Number(args.joins) * 2 && !interrupted(); i++) {
        const node = i % 2 === 0 ? first! : other!;
        await bots.spawn({ ...base, publishers: 0, subscribers: 1, urls: [node.url] });
        await new Promise((r) => setTimeout(r, 700));
        const ms = (await bots.stats()).firstPacketMs.video;
        (node === first ? same : cross).push(...ms);
      }
      const p50s = percentile(same, 50);
      const p50c = percentile(cross, 50);
      console.log(
        `\n[join] time to first packet, p50 over ${same.length} + ${cross.length} joins: ` +
          `same node ${p50s.toFixed(0)} ms, through another node ${p50c.toFixed(0)} ms, ` +
          `extra ${(p50c - p50s).toFixed(0)} ms (goal ≤ 50 ms); p95 ${percentile(same, 95).toFixed(0)} / ${percentile(cross, 95).toFixed(0)} ms`,
      );
    } finally {
      await bots.stop();
    }
  } finally {
    await cluster.stop();
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
  if (nodes > 1 && args['join-only']) {
    await joinLatency();
  } else if (!spread) {
    const r = await run('broadcast', undefined);
    summary('broadcast', r);
    if (!r.result.best) exitCode = 1;
  } else {
    const single = await run('single-router', 1_000_000);
    summary('single-router', single);
    const multi = interrupted()
      ? undefined
      : await run(
          nodes > 1 ? `spread over ${nodes} nodes` : 'spread',
          // One worker per node: the nodes spread the viewers, one router each.
          workers >= 2 ? Number(args['per-router']) : 1_000_000,
          nodes,
        );
    if (multi) summary(nodes > 1 ? `spread over ${nodes} nodes` : 'spread', multi);
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
    if (nodes > 1 && Number(args.joins) > 0 && !interrupted()) await joinLatency();
  }
} catch (err) {
  console.error(`[bench:broadcast] failed: ${err instanceof Error ? err.message : String(err)}`);
  exitCode = 1;
}
process.exit(exitCode);
