import { percentile } from '../load/controller.ts';
import { CpuMeter, machineInfo } from '../load/cpu.ts';
import { ProtooPeer } from '../load/protoo.ts';
import { ensureRoom } from '../load/signaling.ts';
import { startClusterProcesses } from '../helpers/clusterProcesses.ts';

export interface ClusterChatBenchOptions {
  nodes: number;
  hosts: string[];
  peers: number;
  rate: number;
  durationS: number;
  /** PostgreSQL commits without waiting for the disk (the chat store's fsync out of the way). */
  asyncCommit: boolean;
  /** Extra environment for every node (e.g. NODE_OPTIONS for a profile). */
  env?: Record<string, string>;
  interrupted: () => boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `npm run bench:chat -- --nodes 2`: the chat bench over a cluster of `nodes` server processes
 * (real Redis and PostgreSQL, test/helpers/clusterProcesses.ts). The peers of one room are
 * spread round-robin over the nodes and every peer sends in turn, so in the same run each
 * delivery is either same-node (sender and receiver on one node) or cross-node (through the
 * Redis chat bus): p50/p99 of both. Resolves the exit code.
 */
export async function runClusterChatBench(opts: ClusterChatBenchOptions): Promise<number> {
  const hosts = opts.hosts.slice(0, opts.nodes);
  if (hosts.length < opts.nodes) throw new Error(`--hosts names fewer than ${opts.nodes} hosts`);
  console.log(`[bench:chat] machine: ${machineInfo()}`);
  console.log(
    `[bench:chat] cluster of ${opts.nodes} nodes (${hosts.join(', ')}), ${opts.peers} peers, ${opts.rate} msg/s for ${opts.durationS} s`,
  );
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
    },
  });
  const peers: { peer: ProtooPeer; node: number }[] = [];
  let exitCode = 0;
  try {
    const roomId = await ensureRoom(cluster.nodes[0]!.wsUrl, 'bench-chat-cluster');
    const same: number[] = [];
    const cross: number[] = [];
    const sent = new Map<string, { at: number; node: number; same?: number; cross?: number }>();
    let received = 0;
    for (let i = 0; i < opts.peers && !opts.interrupted(); i++) {
      const node = i % opts.nodes;
      const peer = await ProtooPeer.connect(cluster.nodes[node]!.wsUrl);
      peer.on('chat.message', ({ message }) => {
        const t = performance.now();
        received++;
        const s = sent.get(message.text);
        if (!s) return;
        (s.node === node ? same : cross).push(t - s.at);
        // The first delivery on the sender's node and on another: their gap is the bus hop,
        // apart from the store's queue both wait in.
        if (s.node === node) s.same ??= t;
        else s.cross ??= t;
      });
      await peer.request('room.join', { roomId, nickname: `chat-${i}` });
      peers.push({ peer, node });
    }
    await sleep(2000);
    const pids = cluster.nodes.map((n) => n.proc.child.pid!);
    const meter = new CpuMeter([...pids, process.pid]);
    const t0 = performance.now();
    const total = opts.rate * opts.durationS;
    let n = 0;
    let errors = 0;
    /** chat.send → its answer: the store's queue and write plus the publish, before fan-out. */
    const acks: number[] = [];
    while (n < total && !opts.interrupted()) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * opts.rate));
      while (n < due) {
        const from = peers[n % peers.length]!;
        const text = `m${n}`;
        sent.set(text, { at: performance.now(), node: from.node });
        const at = performance.now();
        from.peer
          .request('chat.send', { text })
          .then(() => acks.push(performance.now() - at))
          .catch((err: unknown) => {
            if (errors++ < 3) console.error(`[bench:chat] chat.send failed: ${String(err)}`);
          });
        n++;
      }
      await sleep(5);
    }
    const expected = n * peers.length;
    const tailEnd = performance.now() + 5000;
    while (received < expected && performance.now() < tailEnd) await sleep(50);
    const cpu = meter.sample();
    const fmt = (v: number[]) =>
      `p50 ${percentile(v, 50).toFixed(1)} ms, p99 ${percentile(v, 99).toFixed(1)} ms (${v.length} deliveries)`;
    console.log(
      `[bench:chat] sent ${n}, ${received}/${expected} deliveries, ${errors} send errors`,
    );
    console.log(`[bench:chat] same-node fan-out  ${fmt(same)}`);
    console.log(`[bench:chat] chat.send answered ${fmt(acks).replace('deliveries', 'sends')}`);
    console.log(`[bench:chat] cross-node fan-out ${fmt(cross)}`);
    const hops = [...sent.values()].flatMap((m) =>
      m.same !== undefined && m.cross !== undefined ? [m.cross - m.same] : [],
    );
    console.log(
      `[bench:chat] cross-node extra per message (first cross-node minus first same-node delivery): ${fmt(hops).replace('deliveries', 'messages')}`,
    );
    const cpuText = cpu
      .slice(0, pids.length)
      .map((c, i) => `node ${i + 1} ${(c * 100).toFixed(0)}%`)
      .join(', ');
    console.log(
      `[bench:chat] CPU (share of a core): ${cpuText}, peers (this process) ${((cpu[pids.length] ?? 0) * 100).toFixed(0)}%`,
    );
    const p99 = percentile(cross, 99);
    console.log(`[bench:chat] goal: cross-node p99 < 30 ms: ${p99 < 30 ? 'met' : 'MISSED'}`);
    if (received < expected * 0.99 || errors > 0) exitCode = 1;
  } catch (err) {
    console.error(`[bench:chat] failed: ${err instanceof Error ? err.message : String(err)}`);
    exitCode = 1;
  } finally {
    for (const { peer } of peers) peer.close();
    if (opts.env?.NODE_OPTIONS) {
      // A profile is written on a clean exit: drain (SIGTERM) before stop()'s SIGKILL.
      for (const node of cluster.nodes) node.signal('SIGTERM');
      await Promise.race([Promise.all(cluster.nodes.map((n) => n.exited)), sleep(15_000)]);
    }
    await cluster.stop();
  }
  return exitCode;
}
