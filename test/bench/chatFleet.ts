import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  PeerShard,
  type PeerSpec,
  type SendPlan,
  type ShardAnswer,
  type ShardReport,
  type ShardRequest,
} from './chatPeers.ts';

/** One shard's handle: in this process, or a child process over IPC. */
interface ShardHandle {
  pid: number;
  connect(roomId: string, specs: PeerSpec[], parseAll: boolean): Promise<void>;
  send(plan: SendPlan): Promise<void>;
  received(): Promise<number>;
  report(): Promise<ShardReport>;
  close(): Promise<void>;
}

/** Each request shape without its id (Omit per member of the union). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

const SHARD_FILE = fileURLToPath(new URL('./chatPeers.ts', import.meta.url));

function localShard(): ShardHandle {
  const shard = new PeerShard();
  return {
    pid: process.pid,
    connect: (roomId, specs, parseAll) => shard.connect(roomId, specs, parseAll),
    send: (plan) => shard.send(plan),
    received: async () => shard.received(),
    report: async () => shard.report(),
    close: async () => shard.close(),
  };
}

function childShard(): ShardHandle {
  // 'advanced': the latency samples cross as typed arrays, not as JSON.
  const child: ChildProcess = fork(SHARD_FILE, ['--chat-peer-shard'], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (message) => {
    const a = message as ShardAnswer;
    const w = waiting.get(a.id);
    waiting.delete(a.id);
    if (a.ok) w?.resolve(a.value);
    else w?.reject(new Error(a.error));
  });
  child.once('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`peer process exited with ${code}`));
    waiting.clear();
  });
  const call = <T>(req: WithoutId<ShardRequest>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...req, id } as ShardRequest);
    });
  return {
    pid: child.pid!,
    connect: (roomId, specs, parseAll) => call({ op: 'connect', roomId, specs, parseAll }),
    send: (plan) => call({ op: 'send', plan }),
    received: () => call({ op: 'received' }),
    report: () => call({ op: 'report' }),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call({ op: 'close' }).catch(() => {});
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export interface FleetReport {
  same: Float64Array;
  cross: Float64Array;
  acks: Float64Array;
  /** Per message, first cross-node minus first same-node delivery (ms). */
  hops: Float64Array;
  received: number;
  errors: number;
  sent: number;
  loopP99Ms: number;
  loopMaxMs: number;
  /** Per message n, over all shards (machine clock, NaN: none): for --trace's phases. */
  messages: MessageTimes;
}

export interface MessageTimes {
  sentAt: Float64Array;
  ackAt: Float64Array;
  firstSame: Float64Array;
  firstCross: Float64Array;
  lastSame: Float64Array;
  lastCross: Float64Array;
}

/** Per message, the shards' times merged: the earliest (`min`) or latest of those present. */
function merge(parts: Float64Array[], total: number, min: boolean): Float64Array {
  const out = new Float64Array(total).fill(NaN);
  for (const p of parts) {
    for (let n = 0; n < total; n++) {
      const v = p[n]!;
      if (!(v > 0)) continue;
      const cur = out[n]!;
      if (!(cur > 0) || (min ? v < cur : v > cur)) out[n] = v;
    }
  }
  return out;
}

/**
 * The bench's peers: `procs` = 0 runs them in this process (as the bench always did), N in
 * N child processes (peer i in process i % N). Peer i connects to urls[i % urls.length].
 */
export class PeerFleet {
  readonly #shards: ShardHandle[];
  readonly #specs: PeerSpec[][];
  readonly peers: number;

  constructor(opts: { peers: number; urls: string[]; procs: number }) {
    const n = Math.max(1, opts.procs);
    this.#shards = Array.from({ length: n }, () => (opts.procs > 0 ? childShard() : localShard()));
    this.#specs = Array.from({ length: n }, () => []);
    for (let i = 0; i < opts.peers; i++) {
      const node = i % opts.urls.length;
      this.#specs[i % n]!.push({ index: i, url: opts.urls[node]!, node });
    }
    this.peers = opts.peers;
  }

  /** The processes the peers run in (this one, or the children). */
  get pids(): number[] {
    return this.#shards.map((s) => s.pid);
  }

  /** Joins every peer to the room, the shards in parallel (see PeerShard.connect). */
  async connect(roomId: string, parseAll = false): Promise<void> {
    await Promise.all(this.#shards.map((s, i) => s.connect(roomId, this.#specs[i]!, parseAll)));
  }

  /** Sends `rate` msg/s for `durationS` (all shards on one clock), then waits for the tail. */
  async run(rate: number, durationS: number, tailMs = 5000): Promise<FleetReport> {
    const total = Math.round(rate * durationS);
    const plan: SendPlan = {
      startAt: performance.timeOrigin + performance.now() + 300,
      rate,
      total,
      peers: this.peers,
      keyPrefix: `bench-${randomBytes(4).toString('hex')}`,
    };
    await Promise.all(this.#shards.map((s) => s.send(plan)));
    const expected = total * this.peers;
    const tailEnd = performance.now() + tailMs;
    for (;;) {
      const got = (await Promise.all(this.#shards.map((s) => s.received()))).reduce(
        (a, b) => a + b,
        0,
      );
      if (got >= expected || performance.now() > tailEnd) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const reports = await Promise.all(this.#shards.map((s) => s.report()));
    const cat = (pick: (r: ShardReport) => Float64Array): Float64Array => {
      const parts = reports.map(pick);
      const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    };
    const hops: number[] = [];
    for (let n = 0; n < total; n++) {
      let same = NaN;
      let cross = NaN;
      for (const r of reports) {
        const s = r.firstSame[n]!;
        const c = r.firstCross[n]!;
        if (s > 0 && !(same <= s)) same = s;
        if (c > 0 && !(cross <= c)) cross = c;
      }
      if (same > 0 && cross > 0) hops.push(cross - same);
    }
    return {
      same: cat((r) => r.same),
      cross: cat((r) => r.cross),
      acks: cat((r) => r.acks),
      hops: Float64Array.from(hops),
      received: reports.reduce((a, r) => a + r.received, 0),
      errors: reports.reduce((a, r) => a + r.errors, 0),
      sent: reports.reduce((a, r) => a + r.sent, 0),
      loopP99Ms: Math.max(...reports.map((r) => r.loopP99Ms)),
      loopMaxMs: Math.max(...reports.map((r) => r.loopMaxMs)),
      messages: {
        sentAt: merge(
          reports.map((r) => r.sentAt),
          total,
          true,
        ),
        ackAt: merge(
          reports.map((r) => r.ackAt),
          total,
          true,
        ),
        firstSame: merge(
          reports.map((r) => r.firstSame),
          total,
          true,
        ),
        firstCross: merge(
          reports.map((r) => r.firstCross),
          total,
          true,
        ),
        lastSame: merge(
          reports.map((r) => r.lastSame),
          total,
          false,
        ),
        lastCross: merge(
          reports.map((r) => r.lastCross),
          total,
          false,
        ),
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.#shards.map((s) => s.close()));
  }
}

/** Percentile of samples (sorted in place). */
export function pct(values: Float64Array, p: number): number {
  if (values.length === 0) return NaN;
  values.sort();
  const idx = Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1));
  return values[idx]!;
}
