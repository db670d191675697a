import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mediasoup from 'mediasoup';
import type { Router, RouterOptions, Worker, WorkerLogLevel } from 'mediasoup/types';

export interface WorkerPoolOptions {
  /** 0 = one per CPU core (os.availableParallelism()). */
  numWorkers: number;
  workerBin?: string | undefined;
  logLevel?: WorkerLogLevel;
  /** How often CPU load is sampled, ms. */
  loadSampleMs?: number;
  log?: PoolLogger;
}

export interface PoolLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WorkerStatus {
  pid: number;
  alive: boolean;
  /** CPU use over the last sample period, as a fraction of one core (0..1+). */
  cpu?: number;
  routers: number;
  /** Consumers on its WebRTC transports (what the peers receive; pipes not counted). */
  consumers: number;
}

interface Slot {
  index: number;
  worker: Worker;
  routers: number;
  consumers: number;
  /** Routers being created on it right now (counted for placement until they exist). */
  pending: number;
  cpu: number | undefined;
  lastCpuMs: number | undefined;
  lastSampleAt: number;
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_WORKER_BIN = path.join(REPO_ROOT, 'media-workers/bin/mediasoup-worker');

/** config.media.workerBin ?? MEDIASOUP_WORKER_BIN ?? <repo>/media-workers/bin/mediasoup-worker. */
export function resolveWorkerBin(
  configured?: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const bin = configured ?? env.MEDIASOUP_WORKER_BIN ?? DEFAULT_WORKER_BIN;
  return path.resolve(bin);
}

/**
 * N mediasoup workers. Routers go to the least-loaded worker (sampled CPU plus a small
 * per-router weight). A dead worker is logged and replaced in its slot; never crashes the
 * process. Rooms learn about it through their router's 'workerclose'; a router asked for
 * while no worker is alive waits (bounded) for a replacement. `status()` is what operators
 * and tests see of the workers (pid, alive, CPU, routers).
 */
/** mediasoup's death message for a worker that a signal stopped: "[pid:N, code:0, signal:null]" or "signal:SIGTERM". */
const STOPPED_BY_SIGNAL = /code:0,|signal:SIG(TERM|INT)\]/;
/** How long a signalled worker's death waits for the pool to begin closing. */
const SIGNAL_GRACE_MS = 1000;

export class WorkerPool {
  readonly #opts: Required<Omit<WorkerPoolOptions, 'workerBin' | 'log'>> & { workerBin: string };
  readonly #log: PoolLogger;
  readonly #slots: Slot[] = [];
  #closed = false;
  /** Shutdown has begun (beginClose/close): no respawns, no new routers. */
  #closing = false;
  #sampler: NodeJS.Timeout | undefined;
  #waiters: (() => void)[] = [];

  private constructor(opts: WorkerPoolOptions) {
    const workerBin = resolveWorkerBin(opts.workerBin);
    this.#opts = {
      numWorkers: opts.numWorkers > 0 ? opts.numWorkers : os.availableParallelism(),
      workerBin,
      logLevel: opts.logLevel ?? 'warn',
      loadSampleMs: opts.loadSampleMs ?? 2000,
    };
    this.#log = opts.log ?? { info() {}, warn() {}, error() {} };
  }

  static async create(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    const bin = pool.#opts.workerBin;
    if (!existsSync(bin)) {
      throw new Error(
        `mediasoup worker binary not found at ${bin}. Run "npm run setup" (or set ` +
          `media.workerBin / MEDIASOUP_WORKER_BIN).`,
      );
    }
    try {
      for (let i = 0; i < pool.#opts.numWorkers; i++) {
        const worker = await pool.#spawn(i);
        const slot = { index: i } as Slot;
        pool.#install(slot, worker);
        pool.#slots.push(slot);
      }
    } catch (err) {
      pool.close();
      throw err;
    }
    void pool.#sample(); // Baseline, so the first interval already yields a CPU figure.
    pool.#sampler = setInterval(() => void pool.#sample(), pool.#opts.loadSampleMs);
    pool.#sampler.unref();
    return pool;
  }

  get size(): number {
    return this.#slots.length;
  }

  get workerBin(): string {
    return this.#opts.workerBin;
  }

  async #spawn(index: number): Promise<Worker> {
    const worker = await mediasoup.createWorker({
      workerBin: this.#opts.workerBin,
      logLevel: this.#opts.logLevel,
      appData: { index },
    });
    this.#log.info({ pid: worker.pid, index }, 'mediasoup worker started');
    return worker;
  }

  /** Puts `worker` into `slot` (fresh or replacing a dead one) and tracks its routers. */
  #install(slot: Slot, worker: Worker): void {
    Object.assign(slot, {
      worker,
      routers: 0,
      consumers: 0,
      pending: 0,
      cpu: undefined,
      lastCpuMs: undefined,
      lastSampleAt: Date.now(),
    });
    worker.observer.on('newrouter', (router) => {
      if (slot.worker !== worker) return;
      slot.routers++;
      router.observer.once('close', () => {
        if (slot.worker === worker) slot.routers = Math.max(0, slot.routers - 1);
      });
      router.observer.on('newtransport', (transport) => {
        if (transport.type !== 'webrtc') return;
        transport.observer.on('newconsumer', (consumer) => {
          if (slot.worker !== worker) return;
          slot.consumers++;
          consumer.observer.once('close', () => {
            if (slot.worker === worker) slot.consumers = Math.max(0, slot.consumers - 1);
          });
        });
      });
    });
    worker.on('died', (error) => this.#onDied(slot, worker, error));
  }

  #onDied(slot: Slot, worker: Worker, error: Error): void {
    if (this.#closing || slot.worker !== worker) return;
    // Stopped by a signal to the whole process group (Ctrl-C, a group kill): the worker exits
    // cleanly or by SIGTERM/SIGINT, and Node's own handler may not have begun the shutdown
    // yet. Give it a moment before calling it a death.
    if (STOPPED_BY_SIGNAL.test(error.message)) {
      setTimeout(() => this.#diedFor(slot, worker, error), SIGNAL_GRACE_MS).unref();
      return;
    }
    this.#diedFor(slot, worker, error);
  }

  #diedFor(slot: Slot, worker: Worker, error: Error): void {
    if (this.#closing || slot.worker !== worker) return;
    this.#log.error({ pid: worker.pid, index: slot.index, err: error }, 'mediasoup worker died');
    void this.#replace(slot, worker.pid, 0);
  }

  async #replace(slot: Slot, deadPid: number, attempt: number): Promise<void> {
    if (this.#closing) return;
    try {
      const fresh = await this.#spawn(slot.index);
      if (this.#closing) {
        fresh.close();
        return;
      }
      this.#install(slot, fresh);
      this.#log.warn({ deadPid, newPid: fresh.pid, index: slot.index }, 'worker replaced');
      this.#wake();
    } catch (err) {
      // Keep trying with backoff; the rest of the pool keeps serving.
      const delay = Math.min(10_000, 250 * 2 ** attempt);
      this.#log.error({ err, index: slot.index, delay }, 'worker respawn failed, retrying');
      setTimeout(() => void this.#replace(slot, deadPid, attempt + 1), delay).unref();
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #alive(): Slot[] {
    return this.#slots.filter((s) => !s.worker.closed && !s.worker.died);
  }

  /**
   * The least-loaded live slot, waiting (bounded) for a replacement when none is alive. One
   * pending router is counted on it in the same tick it is chosen.
   */
  async #reserveSlot(timeoutMs: number, avoidPids: readonly number[]): Promise<Slot> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#closing) throw new Error('worker pool closed');
      const all = this.#alive();
      const preferred = all.filter((s) => !avoidPids.includes(s.worker.pid));
      const alive = preferred.length > 0 ? preferred : all;
      if (alive.length > 0) {
        alive.sort((a, b) => score(a) - score(b) || a.index - b.index);
        alive[0]!.pending++;
        return alive[0]!;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no live mediasoup worker');
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(t);
          resolve();
        };
        // On timeout, take the waiter back out (else every 500 ms loop leaves one behind).
        const t = setTimeout(
          () => {
            this.#waiters = this.#waiters.filter((w) => w !== wake);
            resolve();
          },
          Math.min(left, 500),
        );
        this.#waiters.push(wake);
      });
    }
  }

  /**
   * Creates a router on the least-loaded live worker; `appData.workerPid` says which.
   * Routers still being created count towards their worker's load, so concurrent requests
   * (a burst of first joins, every room of a dead worker moving at once) are spread instead
   * of all picking one worker. `placement.avoidPids`: workers to skip while another one is
   * alive (a room growing onto a worker it is not on yet).
   */
  async createRouter(
    options: RouterOptions,
    placement: { avoidPids?: readonly number[] } = {},
  ): Promise<Router> {
    const slot = await this.#reserveSlot(15_000, placement.avoidPids ?? []);
    const worker = slot.worker;
    try {
      return await worker.createRouter({
        ...options,
        appData: { ...options.appData, workerPid: worker.pid },
      });
    } finally {
      if (slot.worker === worker) slot.pending--;
    }
  }

  status(): WorkerStatus[] {
    return this.#slots.map((s) => ({
      pid: s.worker.pid,
      alive: !s.worker.closed && !s.worker.died,
      ...(s.cpu !== undefined ? { cpu: Math.round(s.cpu * 1000) / 1000 } : {}),
      routers: s.routers,
      consumers: s.consumers,
    }));
  }

  async #sample(): Promise<void> {
    await Promise.all(
      this.#alive().map(async (slot) => {
        const worker = slot.worker;
        try {
          const ru = await worker.getResourceUsage();
          if (slot.worker !== worker) return;
          const now = Date.now();
          const cpuMs = ru.ru_utime + ru.ru_stime;
          if (slot.lastCpuMs !== undefined && now > slot.lastSampleAt) {
            slot.cpu = Math.max(0, (cpuMs - slot.lastCpuMs) / (now - slot.lastSampleAt));
          }
          slot.lastCpuMs = cpuMs;
          slot.lastSampleAt = now;
        } catch {
          // The worker may be dying; 'died' handles it.
        }
      }),
    );
  }

  /** True once shutdown has begun (beginClose() or close()). */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Shutdown has begun (call it first thing on SIGTERM/SIGINT): from now on a worker that
   * exits is not a death — no log, no respawn — and no router is placed;
   * waiting placements fail. The workers keep running until close().
   */
  beginClose(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#sampler) clearInterval(this.#sampler);
    this.#wake();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.beginClose();
    for (const s of this.#slots) {
      if (!s.worker.closed) s.worker.close();
    }
  }
}

/** Lower is better: CPU fraction plus a small weight per hosted (or incoming) router. */
function score(s: Slot): number {
  return (s.cpu ?? 0) + 0.05 * (s.routers + s.pending);
}
