import { fork, type ChildProcess } from 'node:child_process';
import type { BareSfu } from './bare-sfu.ts';
import type { BareMethod, BotInit, BotStats, FromBots, SpawnSpec, ToBots } from './ipc.ts';
import type { NewConsumer } from './bots.ts';

/**
 * The controller's handle on a forked bot process: spawn bots, read their counters, stop
 * them. With a BareSfu attached, it also answers the bots' signaling by calling mediasoup.
 */
export class BotProcess {
  readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, (msg: FromBots) => void>();
  private readonly askWaiting = new Map<
    number,
    { resolve: () => void; reject: (e: Error) => void }
  >();
  private bare: BareSfu | undefined;
  private exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (raw) => this.onMessage(raw as FromBots));
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  static async start(init: BotInit): Promise<BotProcess> {
    const child = fork(new URL('./botproc.ts', import.meta.url), [], {
      execPath: process.execPath,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    const bp = new BotProcess(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('bot process did not start')), 15_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => reject(new Error(`bot process exited (${code})`)));
      child.send({ t: 'init', init } satisfies ToBots);
    });
    return bp;
  }

  /** Routes the bots' bare-mode signaling to this in-process mediasoup. */
  attachBare(sfu: BareSfu): void {
    this.bare = sfu;
  }

  /** Bare SFU → bot: announce a consumer and wait for the bot's answer. */
  askNewConsumer(peer: string, data: NewConsumer): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.askWaiting.set(id, { resolve, reject });
      this.send({ t: 'srvreq', peer, id, method: 'media.newConsumer', data });
    });
  }

  spawn(spec: SpawnSpec): Promise<{ ok: number; failed: number; errors: string[]; ms: number }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, (msg) => {
        if (msg.t === 'spawned') resolve(msg);
      });
      this.send({ t: 'spawn', id, spec });
    });
  }

  stats(): Promise<BotStats> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('bot process: no stats')), 10_000);
      this.waiting.set(id, (msg) => {
        clearTimeout(timer);
        if (msg.t === 'stats') resolve(msg.stats);
      });
      this.send({ t: 'stats', id });
    });
  }

  async stop(): Promise<void> {
    this.send({ t: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  private send(msg: ToBots): void {
    if (this.child.connected) this.child.send(msg);
  }

  private onMessage(msg: FromBots): void {
    switch (msg.t) {
      case 'spawned':
      case 'stats': {
        const w = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        w?.(msg);
        break;
      }
      case 'srvres': {
        const w = this.askWaiting.get(msg.id);
        this.askWaiting.delete(msg.id);
        if (msg.ok) w?.resolve();
        else w?.reject(new Error(msg.error ?? 'bot refused'));
        break;
      }
      case 'sig':
        void this.onSignal(msg.peer, msg.id, msg.method, msg.data);
        break;
      default:
        break;
    }
  }

  private async onSignal(
    peer: string,
    id: number,
    method: BareMethod,
    data: unknown,
  ): Promise<void> {
    try {
      if (!this.bare) throw new Error('no bare SFU attached');
      const res = await this.bare.handle(peer, method, data as never);
      this.send({ t: 'sigres', id, ok: true, data: res });
    } catch (err) {
      this.send({
        t: 'sigres',
        id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

/** Per-window deltas of two stats snapshots. */
export interface Window {
  seconds: number;
  packets: number;
  expected: number;
  lossPct: number;
  rxMbps: number;
  txMbps: number;
  botCpu: number;
}

export function windowOf(a: BotStats, b: BotStats): Window {
  const seconds = Math.max(0.001, (b.at - a.at) / 1000);
  const packets = b.packets - a.packets;
  const expected = b.expected - a.expected;
  return {
    seconds,
    packets,
    expected,
    lossPct: expected > 0 ? Math.max(0, (100 * (expected - packets)) / expected) : 0,
    rxMbps: ((b.bytes - a.bytes) * 8) / seconds / 1e6,
    txMbps: ((b.sentBytes - a.sentBytes) * 8) / seconds / 1e6,
    botCpu: (b.cpuUserMs + b.cpuSystemMs - a.cpuUserMs - a.cpuSystemMs) / 1000 / seconds,
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}
