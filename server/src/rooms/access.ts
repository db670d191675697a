import type { Config } from '@tutti/config';
import { TuttiError } from '@tutti/protocol';
import { KeyedRateLimiter } from '../kernel/rateLimit.ts';
import { AttemptLimiter, isRefusal } from './attempts.ts';
import { GateFullError, HashGate } from './hashGate.ts';
import { hashPassword, verifyOwnerSecret, verifyPassword } from './security.ts';

export interface AccessOptions {
  now: () => number;
  /** The slow password check (scrypt); injectable so tests can watch how many run at once. */
  verify?: (password: string, hash: string) => Promise<boolean>;
  hash?: (password: string) => Promise<string>;
  /** scrypt hashes running at once over all addresses; default half of libuv's threadpool. */
  maxHashesRunning?: number;
  /** Hashes of one address waiting behind its running one; beyond it, refused at once. */
  maxQueuedPerAddress?: number;
}

/** libuv's threadpool (UV_THREADPOOL_SIZE, default 4): scrypt may take at most half of it. */
function defaultMaxHashesRunning(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.floor(pool / 2));
}

/**
 * Who may do what to a room, and the cap on rooms created per address.
 *
 * - Room passwords: one failed-attempt limiter per (client address, room), so guessing one
 *   room's password never locks another room. Each guess is counted before it is hashed
 *   (refunded if right), so concurrent guesses cannot outrun the limit.
 * - Every scrypt (checking a password, hashing a new one) goes through one HashGate: one at a
 *   time per address, at most half the threadpool overall; the rest wait in a short queue.
 * - Owner secrets are 192 random bits checked in constant time (SHA-256, synchronous, no
 *   threadpool). Guessing one is hopeless, so they have no lockout of their own (a shared
 *   lockout would only let an attacker behind the same address lock the owner out) and never
 *   touch the password limiter; only the generic request limits apply.
 */
export class RoomAccess {
  readonly #attempts: AttemptLimiter;
  readonly #gate: HashGate;
  readonly #verify: (password: string, hash: string) => Promise<boolean>;
  readonly #hash: (password: string) => Promise<string>;
  /** room.create per client address (signaling.roomCreatesPerMinute). */
  readonly #creates: KeyedRateLimiter;

  constructor(config: Config, opts: AccessOptions) {
    const r = config.rooms;
    this.#attempts = new AttemptLimiter({
      maxAttempts: r.passwordMaxAttempts,
      windowMs: r.passwordWindowSeconds * 1000,
      lockoutMs: r.passwordLockoutSeconds * 1000,
      now: opts.now,
    });
    this.#gate = new HashGate({
      maxRunning: opts.maxHashesRunning ?? defaultMaxHashesRunning(),
      maxQueuedPerKey: opts.maxQueuedPerAddress ?? 2 * r.passwordMaxAttempts,
    });
    this.#verify = opts.verify ?? verifyPassword;
    this.#hash = opts.hash ?? hashPassword;
    const perMinute = config.signaling.roomCreatesPerMinute;
    this.#creates = new KeyedRateLimiter({
      ratePerSecond: perMinute / 60,
      burst: perMinute,
      now: opts.now,
    });
  }

  /** Throws RATE_LIMITED once `ip` created too many rooms. */
  takeCreate(ip: string): void {
    if (!this.#creates.take(ip)) {
      throw new TuttiError('RATE_LIMITED', 'too many rooms created from your address; try later');
    }
  }

  /** A new room password's hash, made in `ip`'s turn at the gate (RATE_LIMITED if its queue is full). */
  async hashPassword(password: string, ip: string): Promise<string> {
    try {
      return await this.#gate.run(ip, () => this.#hash(password));
    } catch (err) {
      if (err instanceof GateFullError) throw new TuttiError('RATE_LIMITED', err.message);
      throw err;
    }
  }

  /**
   * Throws TOO_MANY_ATTEMPTS (locked out, or too many guesses in progress) or BAD_PASSWORD;
   * a room without a password lets anyone in. A missing password is no guess: it is not
   * counted (the client asks for one and tries again).
   */
  async checkPassword(
    roomId: string,
    passwordHash: string | null,
    password: string | undefined,
    ip: string,
  ): Promise<void> {
    if (passwordHash === null) return;
    const key = `${ip} ${roomId}`;
    if (password === undefined) {
      this.#checkLockout(key);
      throw new TuttiError('BAD_PASSWORD', 'this room needs a password');
    }
    const attempt = this.#attempts.reserve(key);
    if (isRefusal(attempt)) throw tooManyAttempts(attempt.refused, attempt.retryInMs);
    let ok: boolean;
    try {
      ok = await this.#gate.run(ip, () => this.#verify(password, passwordHash));
    } catch (err) {
      attempt.succeeded(); // Never evaluated: not a failure.
      if (err instanceof GateFullError) throw tooManyAttempts('busy', 1000);
      throw err;
    }
    if (ok) return attempt.succeeded();
    attempt.failed();
    throw new TuttiError('BAD_PASSWORD', 'wrong password');
  }

  /** Throws FORBIDDEN for a wrong owner secret (constant time; no lockout, see above). */
  checkOwner(ownerSecretHash: string, ownerSecret: string): void {
    if (!verifyOwnerSecret(ownerSecret, ownerSecretHash)) {
      throw new TuttiError('FORBIDDEN', 'only the room owner may do that');
    }
  }

  /** checkOwner() for a room, logging a wrong secret with the room and the address. */
  checkOwnerOf(
    room: { id: string; record: { ownerSecretHash: string } },
    ownerSecret: string,
    ip: string,
    log: { warn(obj: object, msg: string): void },
  ): void {
    try {
      this.checkOwner(room.record.ownerSecretHash, ownerSecret);
    } catch (err) {
      log.warn({ roomId: room.id, ip }, 'wrong owner secret');
      throw err;
    }
  }

  /** Drops stale limiter entries (the periodic cleanup calls it). */
  prune(): void {
    this.#attempts.prune();
    this.#creates.prune();
  }

  #checkLockout(key: string): void {
    const left = this.#attempts.lockedFor(key);
    if (left > 0) throw tooManyAttempts('locked', left);
  }
}

function tooManyAttempts(why: 'locked' | 'busy', retryInMs: number): TuttiError {
  const wait = `try again in ${Math.max(1, Math.ceil(retryInMs / 1000))} s`;
  return new TuttiError(
    'TOO_MANY_ATTEMPTS',
    why === 'locked'
      ? `too many wrong passwords for this room; ${wait}`
      : `too many password attempts in progress; ${wait}`,
  );
}
