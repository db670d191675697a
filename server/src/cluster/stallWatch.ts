import { performance } from 'node:perf_hooks';

/**
 * Notices that this process's own event loop stalled (a long GC, CPU starvation on a busy
 * box). The registry's timer runs every heartbeat, so a gap far beyond that between two
 * moments our code ran means nothing ran in between: not our heartbeats, nor those of other
 * nodes living in this process. Monotonic time, so a wall-clock step is not a stall.
 */
export class StallWatch {
  readonly #limitMs: number;
  #last: number | undefined;

  /** A gap longer than `limitMs` is a stall. */
  constructor(limitMs: number) {
    this.#limitMs = limitMs;
  }

  /** Starts measuring from now (until then nothing is a stall). */
  start(): void {
    this.#last = performance.now();
  }

  stop(): void {
    this.#last = undefined;
  }

  /** Our code runs now: how long the gap before it was if it was a stall, else 0. */
  check(): number {
    const last = this.#last;
    if (last === undefined) return 0;
    const now = performance.now();
    this.#last = now;
    const gap = now - last;
    return gap > this.#limitMs ? gap : 0;
  }
}

/**
 * The gap that counts as a stall: long enough that a node in this process that beat just
 * before it could look expired to us after it (expiry minus two beats), but never within the
 * normal spacing of our own ticks.
 */
export const stallLimitMs = (heartbeatMs: number, expiryMs: number): number =>
  Math.max(expiryMs - 2 * heartbeatMs, 1.5 * heartbeatMs);
