import { CpuMeter, machineBusyMs } from '../load/cpu.ts';
import { ensureRoom } from '../load/signaling.ts';
import { startClusterProcesses } from '../helpers/clusterProcesses.ts';
import { pct, PeerFleet } from './chatFleet.ts';
import type { ChatRun } from './chatCompare.ts';
import { printTrace } from './chatTrace.ts';
import { writeSyscalls } from './procIo.ts';

export interface ClusterChatBenchOptions {
  nodes: number;
  hosts: string[];
  peers: number;
  rate: number;
  durationS: number;
  /** The peers in this many child processes (0: in the bench's process). */
  peerProcs: number;
  /** The peers parse every frame (PeerShard.connect). */
  parseAll: boolean;
  /** PostgreSQL commits without waiting for the disk (the chat store's fsync out of the way). */
  asyncCommit: boolean;
  /** The nodes trace every message into this (fresh) directory; the phases are printed. */
  traceDir?: string | undefined;
  /** Extra environment for every node (e.g. NODE_OPTIONS for a profile, the baseline). */
  env?: Record<string, string>;
  interrupted: () => boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `npm run bench:chat -- --nodes 2`: the chat bench over a cluster of `nodes` server processes
 * (real Redis and PostgreSQL, test/helpers/clusterProcesses.ts). The peers of one room are
 * spread round-robin over the nodes and every peer sends in turn, so in the same run each
 * delivery is either same-node (sender and receiver on one node) or cross-node (through the
 * Redis chat bus): p50/p99 of both. Resolves the run, or undefined when it failed.
 */
export async function runClusterChatBench(
  opts: ClusterChatBenchOptions,
): Promise<ChatRun | undefined> {
  const hosts = opts.hosts.slice(0, opts.nodes);
  if (hosts.length < opts.nodes) throw new Error(`--hosts names fewer than ${opts.nodes} hosts`);
  if (opts.asyncCommit) console.log('[bench:chat] PostgreSQL: synchronous_commit=off');
  const cluster = await startClusterProcesses({
    hosts,
    databaseSettings: opts.asyncCommit ? ['synchronous_commit=off'] : [],
    env: {
      TUTTI_CHAT_RATE_PER_SECOND: '50',
      TUTTI_CHAT_BURST: '100',
      TUTTI_SERVER_LOG_LEVEL: 'warn',
      TUTTI_ROOMS_MAX_CAPACITY: '1000',
      ...opts.env,
      ...(opts.traceDir !== undefined && { TUTTI_CHAT_TRACE_DIR: opts.traceDir }),
    },
  });
  const fleet = new PeerFleet({
    peers: opts.peers,
    urls: cluster.nodes.map((n) => n.wsUrl),
    procs: opts.peerProcs,
  });
  try {
    const roomId = await ensureRoom(cluster.nodes[0]!.wsUrl, 'bench-chat-cluster');
    await fleet.connect(roomId, opts.parseAll);
    await sleep(2000);
    const pids = cluster.nodes.map((n) => n.proc.child.pid!);
    const meter = new CpuMeter([...pids, ...fleet.pids]);
    const busy0 = machineBusyMs();
    const writes0 = writeSyscalls(pids);
    const t0 = performance.now();
    const r = await fleet.run(opts.rate, opts.durationS);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = meter.sample();
    const writes = writeSyscalls(pids) - writes0;
    const nodeCpu = cpu.slice(0, pids.length);
    const serverTotal = nodeCpu.reduce((a, b) => a + b, 0);
    const peersCpu = cpu.slice(pids.length).reduce((a, b) => a + b, 0);
    const otherCpu = Math.max(
      0,
      (machineBusyMs() - busy0) / (seconds * 1000) - serverTotal - peersCpu,
    );
    const expected = r.sent * opts.peers;
    const fmt = (v: Float64Array, what = 'deliveries') =>
      `p50 ${pct(v, 50).toFixed(1)} ms, p99 ${pct(v, 99).toFixed(1)} ms (${v.length} ${what})`;
    console.log(
      `[bench:chat] sent ${r.sent}, ${r.received}/${expected} deliveries, ${r.errors} send errors`,
    );
    console.log(`[bench:chat] same-node fan-out  ${fmt(r.same)}`);
    console.log(`[bench:chat] chat.send answered ${fmt(r.acks, 'sends')}`);
    console.log(`[bench:chat] cross-node fan-out ${fmt(r.cross)}`);
    console.log(
      `[bench:chat] cross-node extra per message (first cross-node minus first same-node delivery): ${fmt(r.hops, 'messages')}`,
    );
    const run: ChatRun = {
      label: '',
      ok: r.received >= expected * 0.99 && r.errors === 0,
      p50: pct(r.same, 50),
      p99: pct(r.same, 99),
      crossP50: pct(r.cross, 50),
      crossP99: pct(r.cross, 99),
      ackP99: pct(r.acks, 99),
      serverCpu: nodeCpu,
      peersCpu,
      otherCpu,
      received: r.received,
      expected,
      usPerDelivery: r.received > 0 ? (serverTotal * seconds * 1e6) / r.received : NaN,
      writesPerDelivery: r.received > 0 ? writes / r.received : NaN,
    };
    const cpuText = nodeCpu.map((c, i) => `node ${i + 1} ${(c * 100).toFixed(0)}%`).join(', ');
    console.log(
      `[bench:chat] CPU (share of a core): ${cpuText} = ${run.usPerDelivery.toFixed(2)} µs and ${run.writesPerDelivery.toFixed(2)} write syscalls per delivery (all nodes); peers ${(peersCpu * 100).toFixed(0)}% (${fleet.pids.length} process(es)); other work ${(otherCpu * 100).toFixed(0)}%`,
    );
    console.log(
      `[bench:chat] peers' own event-loop delay p99 ${r.loopP99Ms.toFixed(1)} ms, max ${r.loopMaxMs.toFixed(1)} ms (worst peer process)`,
    );
    console.log(
      `[bench:chat] goal: cross-node p99 < 30 ms: ${run.crossP99 < 30 ? 'met' : 'MISSED'}`,
    );
    if (opts.traceDir !== undefined) {
      await sleep(500); // The nodes append their traces every 200 ms.
      printTrace(opts.traceDir, r.messages);
    }
    return run;
  } catch (err) {
    console.error(`[bench:chat] failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  } finally {
    await fleet.close();
    if (opts.env?.NODE_OPTIONS) {
      // A profile is written on a clean exit: drain (SIGTERM) before stop()'s SIGKILL.
      for (const node of cluster.nodes) node.signal('SIGTERM');
      await Promise.race([Promise.all(cluster.nodes.map((n) => n.exited)), sleep(15_000)]);
    }
    await cluster.stop();
  }
}
