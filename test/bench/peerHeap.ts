import { createWriteStream, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { procRssBytes } from '../load/cpu.ts';
import { ProtooPeer } from '../load/protoo.ts';
import { ensureRoom } from '../load/signaling.ts';
import { PeerFleet } from './chatFleet.ts';
import { marginalNote, warmUpWave, type Warmup } from './idleWarmup.ts';
import { startTuttiServer } from './tutti-server.ts';

/**
 * npm run bench:peer-heap — where a joined, idle chat peer's memory goes on the server: a
 * server with no peers and the same server with `--peers N` idle ones in the chat bench's
 * room, each after a full GC: RSS, process.memoryUsage() and a V8 heap snapshot each; the
 * snapshots are diffed by (node type, constructor) and the biggest growths printed per peer.
 * "No peers" means after a warm-up wave of as many peers that join another room and stay
 * joined (`--warmup-peers`, idleWarmup.ts): the figures are what an extra idle peer costs.
 */

const { values: args } = parseArgs({
  options: {
    peers: { type: 'string', default: '500' },
    host: { type: 'string', default: '127.0.0.1' },
    top: { type: 'string', default: '40' },
    /** Keep the two snapshots here (DIR/before.heapsnapshot, DIR/after.heapsnapshot). */
    out: { type: 'string', default: '/tmp' },
    env: { type: 'string' },
    /** Node/V8 flags for the server, space-separated (e.g. "--v8-pool-size=0"). */
    'node-args': { type: 'string' },
    /** Also heap snapshots, diffed (their making inflates RSS: read RSS from a run without). */
    snapshots: { type: 'boolean', default: false },
    /** The peers in this many child processes (as bench:chat's --peer-procs; at least 1). */
    'peer-procs': { type: 'string', default: '1' },
    /** Peers that join a room of their own (and stay) before the baseline; 0: none. Default: --peers. */
    'warmup-peers': { type: 'string' },
  },
});
/**
 * Resident kB by kind of mapping (/proc/PID/smaps): glibc's main malloc arena ([heap]), its
 * thread arenas (anonymous, 64 MiB-aligned), other anonymous memory (V8's heap pages among
 * it) and files.
 */
function residentByKind(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let kind = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const arena = BigInt(`0x${m[1]}`) % (64n << 20n) === 0n;
      kind =
        m[2] === '[heap]'
          ? 'malloc main arena'
          : m[2]
            ? m[2].startsWith('[')
              ? m[2]
              : 'files'
            : arena
              ? 'malloc thread arenas'
              : 'other anonymous (V8 heap, …)';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out.set(kind, (out.get(kind) ?? 0) + Number(rss[1]));
  }
  return out;
}

const PEERS = Math.min(1000, Math.max(1, Number(args.peers)));
const WARMUP_PEERS = Math.min(1000, Math.max(0, Number(args['warmup-peers'] ?? PEERS)));
const PEER_PROCS = Math.max(1, Number(args['peer-procs']));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A minimal inspector client: one request at a time, chunk events passed to `onEvent`. */
async function inspector(url: string): Promise<{
  call(
    method: string,
    params?: object,
    onEvent?: (m: string, p: unknown) => void,
  ): Promise<unknown>;
  close(): void;
}> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('inspector: connection failed')));
  });
  let nextId = 1;
  let pending:
    | { id: number; resolve: (v: unknown) => void; onEvent?: (m: string, p: unknown) => void }
    | undefined;
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(String(ev.data)) as {
      id?: number;
      method?: string;
      params?: unknown;
      result?: unknown;
    };
    if (msg.id !== undefined && msg.id === pending?.id) pending.resolve(msg.result);
    else if (msg.method) pending?.onEvent?.(msg.method, msg.params);
  });
  return {
    call: (method, params, onEvent) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending = { id, resolve, ...(onEvent && { onEvent }) };
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

interface Sample {
  rss: number;
  usage: Record<string, number>;
  groups: Map<string, { count: number; size: number }>;
}

async function sample(url: string, pid: number, file: string | undefined): Promise<Sample> {
  const ins = await inspector(url);
  await ins.call('HeapProfiler.enable');
  await ins.call('HeapProfiler.collectGarbage');
  await ins.call('HeapProfiler.collectGarbage');
  const evaluated = (await ins.call('Runtime.evaluate', {
    expression: 'JSON.stringify(process.memoryUsage())',
    returnByValue: true,
  })) as { result: { value: string } };
  const rss = procRssBytes(pid) ?? 0;
  if (file === undefined) {
    ins.close();
    return {
      rss,
      usage: JSON.parse(evaluated.result.value) as Record<string, number>,
      groups: new Map(),
    };
  }
  const out = createWriteStream(file);
  await ins.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, (m, p) => {
    if (m === 'HeapProfiler.addHeapSnapshotChunk') out.write((p as { chunk: string }).chunk);
  });
  await new Promise<void>((resolve) => out.end(resolve));
  ins.close();
  return {
    rss,
    usage: JSON.parse(evaluated.result.value) as Record<string, number>,
    groups: groupSnapshot(file),
  };
}

/** Self size and count per "type:name" (strings and code lumped per type). */
function groupSnapshot(file: string): Map<string, { count: number; size: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const stride = fields.length;
  const [ti, ni, si] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const groups = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = types[snap.nodes[i + ti]!]!;
    const lump =
      type === 'string' ||
      type === 'concatenated string' ||
      type === 'sliced string' ||
      type === 'number';
    const name = lump ? '' : (snap.strings[snap.nodes[i + ni]!] ?? '?').slice(0, 60);
    const key = `${type}:${name}`;
    const g = groups.get(key) ?? { count: 0, size: 0 };
    g.count++;
    g.size += snap.nodes[i + si]!;
    groups.set(key, g);
  }
  return groups;
}

const server = await startTuttiServer({
  numWorkers: 1,
  host: args.host,
  inspect: true,
  ...(args['node-args'] && { nodeArgs: args['node-args'].split(' ') }),
  ...(args.env && {
    env: Object.fromEntries(args.env.split(',').map((kv) => kv.split('=', 2) as [string, string])),
  }),
});
const fleet = new PeerFleet({
  peers: PEERS,
  urls: [server.wsUrl],
  procs: PEER_PROCS,
});
let warmup: Warmup | undefined;
try {
  const url = server.inspectorUrl()!;
  const roomId = await ensureRoom(server.wsUrl, 'bench-chat');
  const warm = await ProtooPeer.connect(server.wsUrl);
  await warm.request('room.join', { roomId, nickname: 'warmup' });
  warm.close();
  await sleep(1500);
  warmup = await warmUpWave(server, WARMUP_PEERS, PEER_PROCS, '[peer-heap]');
  if (warmup.line) console.log(warmup.line);
  const before = await sample(
    url,
    server.pid,
    args.snapshots ? `${args.out}/before.heapsnapshot` : undefined,
  );
  const mapsBefore = residentByKind(server.pid);
  await fleet.connect(roomId);
  await sleep(3000);
  const after = await sample(
    url,
    server.pid,
    args.snapshots ? `${args.out}/after.heapsnapshot` : undefined,
  );
  const kb = (bytes: number): string => (bytes / PEERS / 1024).toFixed(2);
  // Freed heap pages go back to the OS from a background thread: RSS again a little later.
  await sleep(2000);
  const later = procRssBytes(server.pid) ?? 0;
  console.log(
    `[peer-heap] ${PEERS} idle peers (${marginalNote(WARMUP_PEERS)}); per peer: RSS ${kb(after.rss - before.rss)} KB right after the GC, ${kb(later - before.rss)} KB 2 s later`,
  );
  for (const [kind, kb] of residentByKind(server.pid)) {
    const grown = (kb - (mapsBefore.get(kind) ?? 0)) / PEERS;
    if (Math.abs(grown) >= 0.05) console.log(`  resident, ${kind}: ${grown.toFixed(2)} KB`);
  }
  for (const k of Object.keys(after.usage)) {
    console.log(`  memoryUsage.${k}: ${kb(after.usage[k]! - before.usage[k]!)} KB`);
  }
  const rows = [...after.groups].map(([key, a]) => {
    const b = before.groups.get(key) ?? { count: 0, size: 0 };
    return { key, count: (a.count - b.count) / PEERS, size: (a.size - b.size) / PEERS };
  });
  rows.sort((x, y) => y.size - x.size);
  const total = rows.reduce((s, r) => s + r.size, 0);
  console.log(
    `  snapshot self sizes: ${(total / 1024).toFixed(2)} KB per peer; the biggest growths:`,
  );
  for (const r of rows.slice(0, Number(args.top))) {
    console.log(
      `  ${r.size.toFixed(0).padStart(7)} B  ×${r.count.toFixed(2).padStart(6)}  ${r.key}`,
    );
  }
} finally {
  await fleet.close();
  await warmup?.fleet?.close();
  await server.stop();
}
process.exit(0);
