import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ProtooPeer } from '../load/protoo.ts';

/**
 * The chat bench's peers: a shard of them, in the bench's process or in a child process of
 * its own (`--peer-procs N`, chatFleet.ts), so the server's CPU and the peers' can be told
 * apart. Message text carries its number, the sender's node and the send time on the
 * machine's clock (`performance.timeOrigin + now()`, the same in every process), so a
 * receiver in another process measures the latency itself.
 */

export interface PeerSpec {
  /** Global index: message n is sent by peer n % total. */
  index: number;
  url: string;
  /** The node the peer is connected to (same- vs cross-node). */
  node: number;
}

export interface SendPlan {
  /** When message 0 is due, on the machine's clock (ms). */
  startAt: number;
  rate: number;
  total: number;
  /** Peers in all shards together. */
  peers: number;
  /** Idempotency keys are `<keyPrefix>-<n>` (unique per run). */
  keyPrefix: string;
}

export interface ShardReport {
  same: Float64Array;
  cross: Float64Array;
  acks: Float64Array;
  /** Per message: first delivery on the sender's node / on another (machine clock, NaN: none). */
  firstSame: Float64Array;
  firstCross: Float64Array;
  /** Per message: the last delivery on the sender's node / on another; sent; answered (this shard's). */
  lastSame: Float64Array;
  lastCross: Float64Array;
  sentAt: Float64Array;
  ackAt: Float64Array;
  received: number;
  errors: number;
  sent: number;
  loopP99Ms: number;
  loopMaxMs: number;
}

export const clock = (): number => performance.timeOrigin + performance.now();
/** How the server's chat.message notifications begin (ports.ts prepareNotification). */
const CHAT_PREFIX = '{"notification":true,"method":"chat.message",';
/** The bench's texts (m<n>|<node>|<time>) need no JSON unescaping. */
const TEXT_FIELD = '"text":"';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Samples into a typed array that grows by doubling (bounded by what the run sends). */
class Samples {
  #data = new Float64Array(1024);
  #n = 0;
  push(v: number): void {
    if (this.#n === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.#n++] = v;
  }
  take(): Float64Array {
    return this.#data.slice(0, this.#n);
  }
}

export class PeerShard {
  readonly #peers: { spec: PeerSpec; peer: ProtooPeer }[] = [];
  #same = new Samples();
  #cross = new Samples();
  #acks = new Samples();
  #firstSame = new Float64Array(0);
  #firstCross = new Float64Array(0);
  #lastSame = new Float64Array(0);
  #lastCross = new Float64Array(0);
  #sentAt = new Float64Array(0);
  #ackAt = new Float64Array(0);
  #received = 0;
  #errors = 0;
  #sent = 0;
  #loop: ReturnType<typeof monitorEventLoopDelay> | undefined;

  /**
   * Connects and joins each peer of the shard, one after another. `parseAll`: every frame
   * goes through the protocol's parser (as a real client's would); otherwise a chat.message
   * notification is recognized by its prefix and only its text is read.
   */
  async connect(roomId: string, specs: PeerSpec[], parseAll: boolean): Promise<void> {
    for (const spec of specs) {
      const peer = await ProtooPeer.connect(spec.url);
      peer.on('chat.message', ({ message }) => this.#onMessage(spec.node, message.text));
      if (!parseAll) {
        peer.onText = (frame) => {
          if (!frame.startsWith(CHAT_PREFIX)) return false;
          const at = frame.indexOf(TEXT_FIELD);
          if (at < 0) return false;
          const start = at + TEXT_FIELD.length;
          this.#onMessage(spec.node, frame.slice(start, frame.indexOf('"', start)));
          return true;
        };
      }
      await peer.request('room.join', { roomId, nickname: `chat-${spec.index}` });
      this.#peers.push({ spec, peer });
    }
  }

  #onMessage(node: number, text: string): void {
    const t = clock();
    this.#received++;
    // m<n>|<sender's node>|<sent at>
    const [n, from, at] = text.slice(1).split('|').map(Number) as [number, number, number];
    if (!(at > 0)) return;
    const first = from === node ? this.#firstSame : this.#firstCross;
    (from === node ? this.#same : this.#cross).push(t - at);
    if (n < first.length && !(first[n]! <= t)) first[n] = t;
    const last = from === node ? this.#lastSame : this.#lastCross;
    if (n < last.length && !(last[n]! >= t)) last[n] = t;
  }

  /** Sends this shard's share of the plan (message n by peer n % peers), paced on the clock. */
  async send(plan: SendPlan): Promise<void> {
    this.#firstSame = new Float64Array(plan.total).fill(NaN);
    this.#firstCross = new Float64Array(plan.total).fill(NaN);
    this.#lastSame = new Float64Array(plan.total).fill(NaN);
    this.#lastCross = new Float64Array(plan.total).fill(NaN);
    this.#sentAt = new Float64Array(plan.total).fill(NaN);
    this.#ackAt = new Float64Array(plan.total).fill(NaN);
    const mine = new Map(this.#peers.map((p) => [p.spec.index, p]));
    this.#loop = monitorEventLoopDelay({ resolution: 5 });
    this.#loop.enable();
    while (clock() < plan.startAt) await sleep(Math.min(20, plan.startAt - clock()));
    let n = 0;
    while (n < plan.total) {
      const due = Math.min(plan.total, Math.floor(((clock() - plan.startAt) / 1000) * plan.rate));
      for (; n < due; n++) {
        const p = mine.get(n % plan.peers);
        if (!p) continue;
        const at = clock();
        const i = n;
        this.#sentAt[i] = at;
        this.#sent++;
        // Keyed, as the real client's sends always are (its outbox).
        const key = `${plan.keyPrefix}-${n}`;
        p.peer.request('chat.send', { text: `m${n}|${p.spec.node}|${at}`, key }).then(
          () => {
            const t = clock();
            this.#ackAt[i] = t;
            this.#acks.push(t - at);
          },
          (err: unknown) => {
            if (this.#errors++ < 3) console.error(`[bench:chat] chat.send failed: ${String(err)}`);
          },
        );
      }
      await sleep(5);
    }
  }

  received(): number {
    return this.#received;
  }

  report(): ShardReport {
    this.#loop?.disable();
    return {
      same: this.#same.take(),
      cross: this.#cross.take(),
      acks: this.#acks.take(),
      firstSame: this.#firstSame,
      firstCross: this.#firstCross,
      lastSame: this.#lastSame,
      lastCross: this.#lastCross,
      sentAt: this.#sentAt,
      ackAt: this.#ackAt,
      received: this.#received,
      errors: this.#errors,
      sent: this.#sent,
      loopP99Ms: (this.#loop?.percentile(99) ?? 0) / 1e6,
      loopMaxMs: (this.#loop?.max ?? 0) / 1e6,
    };
  }

  close(): void {
    for (const { peer } of this.#peers) peer.close();
  }
}

/** Requests from the bench process to a child shard, and the answers. */
export type ShardRequest =
  | { id: number; op: 'connect'; roomId: string; specs: PeerSpec[]; parseAll: boolean }
  | { id: number; op: 'send'; plan: SendPlan }
  | { id: number; op: 'received' }
  | { id: number; op: 'report' }
  | { id: number; op: 'close' };

export type ShardAnswer =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

// As a child process (chatFleet.ts forks this file): one shard, driven over IPC.
if (process.send && process.argv.includes('--chat-peer-shard')) {
  const shard = new PeerShard();
  const answer = (a: ShardAnswer): void => void process.send!(a);
  process.on('message', (message: unknown) => {
    const req = message as ShardRequest;
    const run = async (): Promise<unknown> => {
      switch (req.op) {
        case 'connect':
          return shard.connect(req.roomId, req.specs, req.parseAll);
        case 'send':
          return shard.send(req.plan);
        case 'received':
          return shard.received();
        case 'report':
          return shard.report();
        case 'close':
          shard.close();
          setTimeout(() => process.exit(0), 200);
          return undefined;
      }
    };
    run().then(
      (value) => answer({ id: req.id, ok: true, value }),
      (err: unknown) => answer({ id: req.id, ok: false, error: String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
