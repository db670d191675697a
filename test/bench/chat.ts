import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { percentile } from '../load/controller.ts';
import { CpuMeter, machineBusyMs, machineInfo, procRssBytes } from '../load/cpu.ts';
import { ProtooPeer } from '../load/protoo.ts';
import { ensureRoom } from '../load/signaling.ts';
import { startTuttiServer } from './tutti-server.ts';
import { watchInterrupt } from '../load/interrupt.ts';

/**
 * npm run bench:chat — 200 signaling-only peers in one room, 200 chat messages per second
 * in all (each peer sends one a second, staggered): fan-out latency from chat.send to
 * every chat.message notification, p50/p99; and the server's memory per idle peer (RSS
 * growth with the peers joined, before any message). The peers run in this process, the
 * server in its own; the CPU of both is reported.
 */

const { values: args } = parseArgs({
  options: {
    peers: { type: 'string', default: '200' },
    rate: { type: 'string', default: '200' },
    duration: { type: 'string', default: '15' },
    /** ≥ 2: a cluster of server processes (chatCluster.ts), same- vs cross-node latency. */
    nodes: { type: 'string', default: '1' },
    hosts: { type: 'string', default: '127.0.0.2,127.0.0.3,127.0.0.4' },
    /** The single node's loopback address (a box shared by several benches). */
    host: { type: 'string', default: '127.0.0.1' },
    /** Profiles the server process(es) (V8 --cpu-prof, written there when they exit). */
    'server-cpu-prof': { type: 'string' },
    'pg-async-commit': { type: 'boolean', default: false },
  },
});
const PEERS = Math.min(1000, Math.max(2, Number(args.peers)));
const RATE = Math.min(2000, Math.max(1, Number(args.rate)));
const DURATION_S = Math.min(120, Math.max(2, Number(args.duration)));

const interrupted = watchInterrupt();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const NODES = Math.min(8, Math.max(1, Number(args.nodes)));
const profileEnv: Record<string, string> = args['server-cpu-prof']
  ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${args['server-cpu-prof']}` }
  : {};
if (NODES > 1) {
  const { runClusterChatBench } = await import('./chatCluster.ts');
  process.exit(
    await runClusterChatBench({
      nodes: NODES,
      hosts: args.hosts.split(','),
      peers: PEERS,
      rate: RATE,
      durationS: DURATION_S,
      asyncCommit: args['pg-async-commit'],
      env: profileEnv,
      interrupted,
    }),
  );
}

console.log(`[bench:chat] machine: ${machineInfo()}`);
console.log(`[bench:chat] ${PEERS} peers, ${RATE} msg/s for ${DURATION_S} s`);

const server = await startTuttiServer({
  numWorkers: 1,
  host: args.host,
  // The per-peer limit (default 10/s) is not what is measured; keep it out of the way.
  env: { TUTTI_CHAT_RATE_PER_SECOND: '50', TUTTI_CHAT_BURST: '100', ...profileEnv },
  // The V8 inspector (127.0.0.1 only) lets the bench force a GC and read the JS heap.
  inspect: true,
});
const peers: ProtooPeer[] = [];
let exitCode = 0;
try {
  const roomId = await ensureRoom(server.wsUrl, 'bench-chat');
  // Warm the server up with one join/leave so lazily loaded code is not counted as per-peer.
  const warm = await ProtooPeer.connect(server.wsUrl);
  await warm.request('room.join', { roomId, nickname: 'warmup' });
  warm.close();
  await sleep(1500);
  const heapBefore = await server.gcHeapUsed();
  const rssBefore = procRssBytes(server.pid) ?? 0;

  // Latency samples in ms, into a fixed buffer (bounded memory).
  const samples = new Float64Array(PEERS * RATE * DURATION_S + 1000);
  let nSamples = 0;
  let received = 0;
  const sentAt = new Map<string, number>();
  /** chat.send request → response: the server's own handling, before any fan-out is read. */
  const acks: number[] = [];
  for (let i = 0; i < PEERS && !interrupted(); i++) {
    const p = await ProtooPeer.connect(server.wsUrl);
    p.on('chat.message', ({ message }) => {
      const t = performance.now();
      received++;
      const s = sentAt.get(message.text);
      if (s !== undefined && nSamples < samples.length) samples[nSamples++] = t - s;
    });
    await p.request('room.join', { roomId, nickname: `chat-${i}` });
    peers.push(p);
  }
  await sleep(3000);
  const heapIdle = await server.gcHeapUsed();
  const rssIdle = procRssBytes(server.pid) ?? 0;
  const perPeerKb = (rssIdle - rssBefore) / peers.length / 1024;
  const heapPerPeerKb = (heapIdle - heapBefore) / peers.length / 1024;
  console.log(
    `[bench:chat] server RSS ${(rssBefore / 2 ** 20).toFixed(1)} MiB → ${(rssIdle / 2 ** 20).toFixed(1)} MiB with ${peers.length} idle peers: ${perPeerKb.toFixed(1)} KB RSS per idle peer; ` +
      `JS heap after a full GC ${(heapBefore / 2 ** 20).toFixed(1)} → ${(heapIdle / 2 ** 20).toFixed(1)} MiB: ${heapPerPeerKb.toFixed(1)} KB per idle peer`,
  );

  // Messages: RATE per second in all, round-robin over the peers, paced every 5 ms.
  const meter = new CpuMeter([server.pid, process.pid, ...server.workerPids]);
  const busy0 = machineBusyMs();
  // This process's own event-loop stalls: a tail that shows here is the peers', not the server's.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const t0 = performance.now();
  let sent = 0;
  let errors = 0;
  const total = RATE * DURATION_S;
  while (sent < total && !interrupted()) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
    while (sent < due) {
      const p = peers[sent % peers.length]!;
      const text = `m${sent}`;
      const at = performance.now();
      sentAt.set(text, at);
      p.request('chat.send', { text })
        .then(() => acks.push(performance.now() - at))
        .catch((err: unknown) => {
          if (errors++ < 3) console.error(`[bench:chat] chat.send failed: ${String(err)}`);
        });
      sent++;
    }
    await sleep(5);
  }
  const sendSeconds = (performance.now() - t0) / 1000;
  // Wait for the tail (bounded).
  const expected = sent * peers.length;
  const tailEnd = performance.now() + 5000;
  while (received < expected && performance.now() < tailEnd) await sleep(50);
  const [serverCpu = 0, botCpu = 0] = meter.sample();
  loopDelay.disable();
  const otherCpu = Math.max(
    0,
    (machineBusyMs() - busy0) / (performance.now() - t0) - serverCpu - botCpu,
  );
  const lat = Array.from(samples.subarray(0, nSamples));
  const p50 = percentile(lat, 50);
  const p99 = percentile(lat, 99);
  console.log(
    `[bench:chat] sent ${sent} in ${sendSeconds.toFixed(1)} s (${(sent / sendSeconds).toFixed(0)} msg/s), ` +
      `${received}/${expected} deliveries, ${errors} send errors`,
  );
  console.log(
    `[bench:chat] fan-out latency p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${lat.reduce((m, v) => (v > m ? v : m), 0).toFixed(1)} ms`,
  );
  console.log(
    `[bench:chat] latency p90 ${percentile(lat, 90).toFixed(1)} ms, p95 ${percentile(lat, 95).toFixed(1)} ms; ` +
      `chat.send acknowledged p50 ${percentile(acks, 50).toFixed(1)} ms, p99 ${percentile(acks, 99).toFixed(1)} ms`,
  );
  console.log(
    `[bench:chat] peers' own event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms`,
  );
  console.log(
    `[bench:chat] CPU: server Node ${(serverCpu * 100).toFixed(0)}% of a core, peers (this process) ${(botCpu * 100).toFixed(0)}%, other work on the machine ${(otherCpu * 100).toFixed(0)}%`,
  );
  console.log(
    `[bench:chat] goals: p99 < 25 ms: ${p99 < 25 ? 'met' : 'MISSED'}; < 150 KB per idle peer: ${perPeerKb < 150 ? 'met' : 'MISSED'}`,
  );
  if (received < expected * 0.99 || errors > 0) exitCode = 1;
} catch (err) {
  console.error(`[bench:chat] failed: ${err instanceof Error ? err.message : String(err)}`);
  exitCode = 1;
} finally {
  for (const p of peers) p.close();
  await server.stop();
}
process.exit(exitCode);
