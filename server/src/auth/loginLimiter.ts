import { TuttiError } from '@tutti/protocol';
import { KeyedRateLimiter } from '../kernel/rateLimit.ts';

export interface LoginLimits {
  perAddressPerMinute: number;
  perAccountPerMinute: number;
  now?: () => number;
}

/**
 * Guards password checks: each attempt is counted against the client address and the
 * account BEFORE any hash is computed, and an address may have only one hash in flight
 * (argon2id costs ~20 MiB and tens of ms: a burst of parallel logins must not buy a burst
 * of hashes).
 */
export class LoginLimiter {
  readonly #byAddress: KeyedRateLimiter;
  readonly #byAccount: KeyedRateLimiter;
  readonly #inFlight = new Set<string>();

  constructor(limits: LoginLimits) {
    this.#byAddress = new KeyedRateLimiter({
      ratePerSecond: limits.perAddressPerMinute / 60,
      burst: limits.perAddressPerMinute,
      now: limits.now,
    });
    this.#byAccount = new KeyedRateLimiter({
      ratePerSecond: limits.perAccountPerMinute / 60,
      burst: limits.perAccountPerMinute,
      now: limits.now,
    });
  }

  /** Counts the attempt, then runs `check` (the hash) as this address's only one in flight. */
  async attempt<T>(address: string, account: string, check: () => Promise<T>): Promise<T> {
    // Every attempt counts, even one refused below: a burst spends the buckets at once.
    const addressOk = this.#byAddress.take(address);
    const accountOk = this.#byAccount.take(account);
    if (!addressOk || !accountOk)
      throw new TuttiError('TOO_MANY_ATTEMPTS', 'too many login attempts; wait a minute');
    if (this.#inFlight.has(address))
      throw new TuttiError('TOO_MANY_ATTEMPTS', 'another login from this address is running');
    this.#inFlight.add(address);
    try {
      return await check();
    } finally {
      this.#inFlight.delete(address);
    }
  }

  prune(): void {
    this.#byAddress.prune();
    this.#byAccount.prune();
  }
}
