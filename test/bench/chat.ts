import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CpuMeter, machineBusyMs, machineInfo } from '../load/cpu.ts';
import { ProtooPeer } from '../load/protoo.ts';
import { ensureRoom } from '../load/signaling.ts';
import { startTuttiServer } from './tutti-server.ts';
import { watchInterrupt } from '../load/interrupt.ts';
import { pct, PeerFleet } from './chatFleet.ts';
import { BASELINE_ENV, printComparison, type ChatRun } from './chatCompare.ts';
import { summarizeProfile } from './cpuProfileSummary.ts';
import { writeSyscalls } from './procIo.ts';
import { marginalNote, readServer, warmUpWave, type Warmup } from './idleWarmup.ts';

/**
 * npm run bench:chat — 200 signaling-only peers in one room, 200 chat messages per second
 * in all (each peer sends one a second, staggered): fan-out latency from chat.send to
 * every chat.message notification, p50/p99; and the server's memory per idle peer (RSS
 * growth with the peers joined, before any message, on top of a warm-up wave of as many
 * peers that stay joined in another room: `--warmup-peers`, idleWarmup.ts). The server runs in its own process,
 * the peers in this one or (`--peer-procs N`) in N child processes; the CPU of each side and
 * the server's CPU per delivery are reported. `--compare` runs the baseline (ws framing every
 * send itself: TUTTI_SIGNALING_PREFRAME_BROADCASTS=false) and the default back to back and
 * prints their ratio; `--rounds R` repeats that pair. The peers read a chat.message by its
 * prefix and text field (no JSON.parse: on one box a thousand parsing peers out-eat the server);
 * `--parse-all` parses every frame as a real client would.
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
    /** The peers in this many child processes (0: in the bench's own process). */
    'peer-procs': { type: 'string', default: '0' },
    /** The peers parse every frame (a real client does; on one box it costs more than the server). */
    'parse-all': { type: 'boolean', default: false },
    compare: { type: 'boolean', default: false },
    /** --compare's baseline as NAME=VALUE,… of server environment (default: the ws-framing one). */
    'baseline-env': { type: 'string' },
    /** NAME=VALUE,… of server environment for the run (with --compare: for the new one of each pair). */
    env: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    /** Profiles the server process(es) (V8 --cpu-prof, written there when they exit). */
    'server-cpu-prof': { type: 'string' },
    /** One node: profiles the server during the messages only (V8 inspector), DIR/run-N.cpuprofile. */
    'run-cpu-prof': { type: 'string' },
    'pg-async-commit': { type: 'boolean', default: false },
    /** --nodes ≥ 2: the nodes trace each message's phases into DIR/<run>; printed per run. */
    trace: { type: 'string' },
    /**
     * One node: this many peers join a room of their own (and stay) before the idle-peer
     * baseline is read, so the memory figure is an extra idle peer's (idleWarmup.ts); 0: none.
     * Default: as many as --peers.
     */
    'warmup-peers': { type: 'string' },
  },
});
const PEERS = Math.min(1000, Math.max(2, Number(args.peers)));
const RATE = Math.min(2000, Math.max(1, Number(args.rate)));
const DURATION_S = Math.min(120, Math.max(2, Number(args.duration)));
const PEER_PROCS = Math.min(16, Math.max(0, Number(args['peer-procs'])));
const ROUNDS = Math.min(5, Math.max(1, Number(args.rounds)));
const WARMUP_PEERS = Math.min(1000, Math.max(0, Number(args['warmup-peers'] ?? PEERS)));

const interrupted = watchInterrupt();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const NODES = Math.min(8, Math.max(1, Number(args.nodes)));
const profileEnv: Record<string, string> = args['server-cpu-prof']
  ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${args['server-cpu-prof']}` }
  : {};

console.log(`[bench:chat] machine: ${machineInfo()}`);
const where =
  (PEER_PROCS > 0 ? `${PEER_PROCS} peer processes` : 'peers in the bench process') +
  (args['parse-all'] ? ', every frame parsed' : ', chat.message read by prefix');
const variants: { label: string; env: Record<string, string> }[] = args.compare
  ? Array.from({ length: ROUNDS }, () => [
      args['baseline-env'] === undefined
        ? { label: 'baseline (ws frames each send)', env: BASELINE_ENV }
        : { label: `baseline (${args['baseline-env']})`, env: parseEnv(args['baseline-env']) },
      args.env === undefined
        ? { label: args['baseline-env'] === undefined ? 'pre-framed broadcasts' : 'new', env: {} }
        : { label: `new (${args.env})`, env: parseEnv(args.env) },
    ]).flat()
  : [
      args.env === undefined
        ? { label: 'default', env: {} }
        : { label: `with ${args.env}`, env: parseEnv(args.env) },
    ];

const runs: ChatRun[] = [];
let exitCode = 0;
for (const variant of variants) {
  if (interrupted()) break;
  console.log(
    `[bench:chat] ── ${variant.label}: ${NODES > 1 ? `${NODES} nodes, ` : ''}${PEERS} peers, ${RATE} msg/s for ${DURATION_S} s, ${where}`,
  );
  let run: ChatRun | undefined;
  if (NODES > 1) {
    const { runClusterChatBench } = await import('./chatCluster.ts');
    run = await runClusterChatBench({
      nodes: NODES,
      hosts: args.hosts.split(','),
      peers: PEERS,
      rate: RATE,
      durationS: DURATION_S,
      peerProcs: PEER_PROCS,
      parseAll: args['parse-all'],
      asyncCommit: args['pg-async-commit'],
      ...(args.trace !== undefined && {
        traceDir: `${args.trace}/run-${runs.length + 1}-${Date.now()}`,
      }),
      env: { ...profileEnv, ...variant.env },
      interrupted,
    });
  } else {
    run = await runSingleNode({ ...profileEnv, ...variant.env });
  }
  if (!run) exitCode = 1;
  else {
    run.label = variant.label;
    runs.push(run);
    if (!run.ok) exitCode = 1;
  }
}
if (args.compare) printComparison(runs);

function saveProfile(dir: string, profile: unknown): void {
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/run-${runs.length + 1}-${Date.now()}.cpuprofile`;
  writeFileSync(file, JSON.stringify(profile));
  console.log(`[bench:chat] server profile of the messages: ${file}`);
  for (const line of summarizeProfile(profile, 12)) console.log(`[bench:chat]   ${line}`);
}

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(text.split(',').map((kv) => kv.split('=', 2) as [string, string]));
}
process.exit(exitCode);

async function runSingleNode(env: Record<string, string>): Promise<ChatRun | undefined> {
  const server = await startTuttiServer({
    numWorkers: 1,
    host: args.host,
    // The per-peer limit (default 10/s) is not what is measured; keep it out of the way.
    env: { TUTTI_CHAT_RATE_PER_SECOND: '50', TUTTI_CHAT_BURST: '100', ...env },
    // The V8 inspector (127.0.0.1 only) lets the bench force a GC and read the JS heap.
    inspect: true,
  });
  const fleet = new PeerFleet({ peers: PEERS, urls: [server.wsUrl], procs: PEER_PROCS });
  let warm: Warmup | undefined;
  try {
    const roomId = await ensureRoom(server.wsUrl, 'bench-chat');
    // Warm the server up with one join/leave so lazily loaded code is not counted as per-peer.
    const first = await ProtooPeer.connect(server.wsUrl);
    await first.request('room.join', { roomId, nickname: 'warmup' });
    first.close();
    await sleep(1500);
    // Then a whole wave of joins that stays (idleWarmup.ts): the figure is an extra peer's.
    warm = await warmUpWave(server, WARMUP_PEERS, PEER_PROCS, '[bench:chat]');
    if (warm.line) console.log(warm.line);
    const before = await readServer(server);
    await fleet.connect(roomId, args['parse-all']);
    await sleep(3000);
    const idle = await readServer(server);
    const perPeerKb = (idle.rss - before.rss) / PEERS / 1024;
    const heapPerPeerKb = (idle.heap - before.heap) / PEERS / 1024;
    const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
    console.log(
      `[bench:chat] server RSS ${mib(before.rss)} MiB → ${mib(idle.rss)} MiB with ${PEERS} idle peers (${marginalNote(WARMUP_PEERS)}): ${perPeerKb.toFixed(1)} KB RSS per idle peer; ` +
        `JS heap after a full GC ${mib(before.heap)} → ${mib(idle.heap)} MiB: ${heapPerPeerKb.toFixed(1)} KB per idle peer`,
    );

    const meter = new CpuMeter([server.pid, ...fleet.pids, ...server.workerPids]);
    const busy0 = machineBusyMs();
    const stopProfile = args['run-cpu-prof'] ? await server.startCpuProfile() : undefined;
    const writes0 = writeSyscalls([server.pid]);
    const t0 = performance.now();
    const r = await fleet.run(RATE, DURATION_S);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = meter.sample();
    const writes = writeSyscalls([server.pid]) - writes0;
    if (stopProfile && args['run-cpu-prof']) saveProfile(args['run-cpu-prof'], await stopProfile());
    const serverCpu = cpu[0] ?? 0;
    const peersCpu = cpu.slice(1, 1 + fleet.pids.length).reduce((a, b) => a + b, 0);
    const otherCpu = Math.max(
      0,
      (machineBusyMs() - busy0) / (seconds * 1000) - serverCpu - peersCpu,
    );
    const expected = r.sent * PEERS;
    const lat = r.same;
    const run: ChatRun = {
      label: '',
      ok: r.received >= expected * 0.99 && r.errors === 0,
      p50: pct(lat, 50),
      p99: pct(lat, 99),
      crossP50: NaN,
      crossP99: NaN,
      ackP99: pct(r.acks, 99),
      serverCpu: [serverCpu],
      peersCpu,
      otherCpu,
      received: r.received,
      expected,
      usPerDelivery: r.received > 0 ? (serverCpu * seconds * 1e6) / r.received : NaN,
      writesPerDelivery: r.received > 0 ? writes / r.received : NaN,
    };
    console.log(
      `[bench:chat] sent ${r.sent} (${RATE} msg/s), ${r.received}/${expected} deliveries, ${r.errors} send errors`,
    );
    console.log(
      `[bench:chat] fan-out latency p50 ${run.p50.toFixed(1)} ms, p90 ${pct(lat, 90).toFixed(1)}, p95 ${pct(lat, 95).toFixed(1)}, p99 ${run.p99.toFixed(1)} ms, max ${pct(lat, 100).toFixed(1)} ms; ` +
        `chat.send answered p50 ${pct(r.acks, 50).toFixed(1)} ms, p99 ${run.ackP99.toFixed(1)} ms`,
    );
    console.log(
      `[bench:chat] peers' own event-loop delay p99 ${r.loopP99Ms.toFixed(1)} ms, max ${r.loopMaxMs.toFixed(1)} ms (worst peer process)`,
    );
    console.log(
      `[bench:chat] CPU: server Node ${(serverCpu * 100).toFixed(0)}% of a core = ${run.usPerDelivery.toFixed(2)} µs and ${run.writesPerDelivery.toFixed(2)} write syscalls per delivery; peers ${(peersCpu * 100).toFixed(0)}% (${fleet.pids.length} process(es)); other work on the machine ${(otherCpu * 100).toFixed(0)}%`,
    );
    console.log(
      `[bench:chat] goals: p99 < ${PEERS >= 1000 ? 50 : 25} ms: ${run.p99 < (PEERS >= 1000 ? 50 : 25) ? 'met' : 'MISSED'}; RSS per idle peer (${WARMUP_PEERS > 0 ? 'marginal' : 'cold'}) < ${PEERS >= 1000 ? 20 : 150} KB: ${perPeerKb < (PEERS >= 1000 ? 20 : 150) ? 'met' : 'MISSED'}`,
    );
    return run;
  } catch (err) {
    console.error(`[bench:chat] failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  } finally {
    await fleet.close();
    await warm?.fleet?.close();
    await server.stop();
  }
}
