const SWEEP_AT = 10_000;

/**
 * Token bucket per key (a peer id): `ratePerSecond` sustained, `burst` at once. In memory
 * on purpose: a peer's socket lives on one node, so its limit does too.
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(opts: { ratePerSecond: number; burst: number; now?: () => number }) {
    this.#rate = opts.ratePerSecond;
    this.#burst = opts.burst;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Takes one token; false when the key is over its rate (nothing is consumed then). */
  take(key: string): boolean {
    const now = this.#now();
    if (this.#buckets.size >= SWEEP_AT && !this.#buckets.has(key)) this.#sweep(now);
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Drops buckets that have refilled: they behave exactly like absent ones. */
  #sweep(now: number): void {
    const full = (this.#burst / this.#rate) * 1000;
    for (const [key, b] of this.#buckets) if (now - b.at >= full) this.#buckets.delete(key);
  }

  /** Forget a key (its connection closed) so the map does not grow with every connection ever seen. */
  forget(key: string): void {
    this.#buckets.delete(key);
  }

  get size(): number {
    return this.#buckets.size;
  }
}
