import type { Config } from '@tutti/config';
import { TuttiError } from '@tutti/protocol';
import { KeyedRateLimiter } from '../kernel/rateLimit.ts';
import { AttemptLimiter, verifyOwnerSecret, verifyPassword } from './security.ts';

/**
 * Who may do what to a room: room passwords and owner secrets, with one failed-attempt
 * limiter per client address for both (a guessed password and a guessed owner secret count
 * alike), and the cap on rooms created per address.
 */
export class RoomAccess {
  readonly #attempts: AttemptLimiter;
  /** room.create per client address (signaling.roomCreatesPerMinute). */
  readonly #creates: KeyedRateLimiter;

  constructor(config: Config, now: () => number) {
    const r = config.rooms;
    this.#attempts = new AttemptLimiter({
      maxAttempts: r.passwordMaxAttempts,
      windowMs: r.passwordWindowSeconds * 1000,
      lockoutMs: r.passwordLockoutSeconds * 1000,
      now,
    });
    const perMinute = config.signaling.roomCreatesPerMinute;
    this.#creates = new KeyedRateLimiter({ ratePerSecond: perMinute / 60, burst: perMinute, now });
  }

  /** Throws RATE_LIMITED once `ip` created too many rooms. */
  takeCreate(ip: string): void {
    if (!this.#creates.take(ip)) {
      throw new TuttiError('RATE_LIMITED', 'too many rooms created from your address; try later');
    }
  }

  /** Throws TOO_MANY_ATTEMPTS (locked out) or BAD_PASSWORD; a room without one lets anyone in. */
  async checkPassword(
    passwordHash: string | null,
    password: string | undefined,
    ip: string,
  ): Promise<void> {
    if (passwordHash === null) return;
    this.#checkLockout(ip);
    const ok = password !== undefined && (await verifyPassword(password, passwordHash));
    if (ok) return;
    this.#attempts.fail(ip);
    throw new TuttiError(
      'BAD_PASSWORD',
      password === undefined ? 'this room needs a password' : 'wrong password',
    );
  }

  /** Throws TOO_MANY_ATTEMPTS (locked out) or FORBIDDEN for a wrong owner secret. */
  checkOwner(ownerSecretHash: string, ownerSecret: string, ip: string): void {
    this.#checkLockout(ip);
    if (!verifyOwnerSecret(ownerSecret, ownerSecretHash)) {
      this.#attempts.fail(ip);
      throw new TuttiError('FORBIDDEN', 'only the room owner may do that');
    }
  }

  /** Drops stale limiter entries (the periodic cleanup calls it). */
  prune(): void {
    this.#attempts.prune();
    this.#creates.prune();
  }

  #checkLockout(ip: string): void {
    const left = this.#attempts.lockedFor(ip);
    if (left > 0) {
      throw new TuttiError(
        'TOO_MANY_ATTEMPTS',
        `too many wrong attempts; try again in ${Math.ceil(left / 1000)} s`,
      );
    }
  }
}
