export interface LimiterOptions {
  maxAttempts: number;
  windowMs: number;
  lockoutMs: number;
  now?: () => number;
}

/** An attempt counted before it is evaluated: settle it once with `succeeded` or `failed`. */
export interface Attempt {
  /** The guess was right (or never evaluated): the reservation is given back. */
  succeeded(): void;
  /** The guess was wrong: it stays counted as a failure (and may lock the key out). */
  failed(): void;
}

/** Why `reserve` said no, and for how long (milliseconds). */
export interface Refusal {
  refused: 'locked' | 'busy';
  retryInMs: number;
}

/**
 * Failed-attempt limiter per key: `maxAttempts` failures within `windowMs` lock the key out
 * for `lockoutMs` (every attempt, right or wrong, is refused meanwhile).
 *
 * An attempt is reserved BEFORE the (slow) check runs and counts as a failure until it is
 * settled, so concurrent guesses cannot all slip past the limit while the first ones are still
 * being hashed: once failures + attempts in progress reach the limit, further attempts are
 * refused ('busy') until some settle; when the reserved ones fail, the key is locked.
 */
export class AttemptLimiter {
  readonly #opts: Required<LimiterOptions>;
  readonly #failures = new Map<string, number[]>();
  readonly #pending = new Map<string, number>();
  readonly #lockedUntil = new Map<string, number>();

  constructor(opts: LimiterOptions) {
    this.#opts = { now: Date.now, ...opts };
  }

  /** Milliseconds the key is still locked out for, 0 if it may try. */
  lockedFor(key: string): number {
    const until = this.#lockedUntil.get(key);
    if (until === undefined) return 0;
    const left = until - this.#opts.now();
    if (left > 0) return left;
    this.#lockedUntil.delete(key);
    return 0;
  }

  /** Counts one attempt now (before it is evaluated), or says why it may not be made. */
  reserve(key: string): Attempt | Refusal {
    const locked = this.lockedFor(key);
    if (locked > 0) return { refused: 'locked', retryInMs: locked };
    const recent = this.#recent(key);
    const pending = this.#pending.get(key) ?? 0;
    if (recent.length + pending >= this.#opts.maxAttempts) {
      const oldest = recent[0];
      const retryInMs =
        oldest === undefined ? 1000 : this.#opts.windowMs - (this.#opts.now() - oldest);
      return { refused: 'busy', retryInMs };
    }
    this.#pending.set(key, pending + 1);
    let settled = false;
    const settle = (failed: boolean) => {
      if (settled) return;
      settled = true;
      const left = (this.#pending.get(key) ?? 1) - 1;
      if (left > 0) this.#pending.set(key, left);
      else this.#pending.delete(key);
      if (failed) this.fail(key);
    };
    return { succeeded: () => settle(false), failed: () => settle(true) };
  }

  /** Records a failure; returns true if the key is now locked out. */
  fail(key: string): boolean {
    const now = this.#opts.now();
    const recent = this.#recent(key);
    recent.push(now);
    if (recent.length >= this.#opts.maxAttempts) {
      this.#failures.delete(key);
      this.#lockedUntil.set(key, now + this.#opts.lockoutMs);
      return true;
    }
    this.#failures.set(key, recent);
    return false;
  }

  /** Drops stale entries (call from the periodic cleanup). */
  prune(): void {
    const now = this.#opts.now();
    for (const [key, times] of this.#failures) {
      if (times.every((t) => now - t >= this.#opts.windowMs)) this.#failures.delete(key);
    }
    for (const [key, until] of this.#lockedUntil) if (until <= now) this.#lockedUntil.delete(key);
  }

  #recent(key: string): number[] {
    const now = this.#opts.now();
    return (this.#failures.get(key) ?? []).filter((t) => now - t < this.#opts.windowMs);
  }
}

export function isRefusal(r: Attempt | Refusal): r is Refusal {
  return 'refused' in r;
}
