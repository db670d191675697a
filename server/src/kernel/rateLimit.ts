/**
 * Token buckets for request rate limiting: `ratePerSecond` sustained, `burst` at once.
 * `now` is injectable (milliseconds) for tests.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(opts: { ratePerSecond: number; burst: number; now?: () => number }) {
    this.#rate = opts.ratePerSecond;
    this.#burst = opts.burst;
    this.#now = opts.now ?? (() => performance.now());
    this.#tokens = opts.burst;
    this.#at = this.#now();
  }

  /** Takes one token; false (nothing taken) when the bucket is empty. */
  take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Gives back a token taken for something that turned out to cost nothing (up to burst). */
  give(): void {
    this.#refill();
    this.#tokens = Math.min(this.#burst, this.#tokens + 1);
  }

  /** True when the bucket is full again (it then behaves like a fresh one). */
  get full(): boolean {
    this.#refill();
    return this.#tokens >= this.#burst;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate);
    this.#at = now;
  }
}

/**
 * One TokenBucket per key (a client address, a connection id); full buckets are dropped by
 * `prune()` (they behave exactly like absent ones). In memory on purpose: a connection lives
 * on one node, so its limit does too.
 */
export class KeyedRateLimiter {
  readonly #opts: { ratePerSecond: number; burst: number; now?: () => number };
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(opts: { ratePerSecond: number; burst: number; now?: () => number }) {
    this.#opts = opts;
  }

  take(key: string): boolean {
    if (this.#buckets.size >= 10_000 && !this.#buckets.has(key)) this.prune();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.#opts);
      this.#buckets.set(key, bucket);
    }
    return bucket.take();
  }

  /** Gives back one token of `key` (see TokenBucket.give); nothing for an unknown key. */
  give(key: string): void {
    this.#buckets.get(key)?.give();
  }

  /** Forget a key (its connection closed) so the map does not grow with every one ever seen. */
  forget(key: string): void {
    this.#buckets.delete(key);
  }

  prune(): void {
    for (const [key, bucket] of this.#buckets) if (bucket.full) this.#buckets.delete(key);
  }

  get size(): number {
    return this.#buckets.size;
  }
}
