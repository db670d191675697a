import { createHash, randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';

// Room rules that don't need a room: password hashing, owner secrets, the failed-attempt
// limiter, nickname de-duplication and the case-insensitive name key.

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

function scryptAsync(
  password: string,
  salt: Buffer,
  keylen: number,
  N: number,
  r: number,
  p: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, { N, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url); a fresh random salt every time. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keylen, SCRYPT.N, SCRYPT.r, SCRYPT.p);
  return [
    'scrypt',
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

/** Constant-time check against a hash made by hashPassword. Malformed hashes never match. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (!Number.isInteger(N) || !Number.isInteger(r) || !Number.isInteger(p) || expected.length === 0)
    return false;
  const actual = await scryptAsync(password, salt, expected.length, N, r, p);
  return timingSafeEqual(actual, expected);
}

/** The owner secret handed out once at creation. High-entropy, so a plain SHA-256 is enough to store. */
export function newOwnerSecret(): string {
  return randomBytes(24).toString('base64url');
}

export function hashOwnerSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

export function verifyOwnerSecret(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashOwnerSecret(secret), 'base64url');
  const b = Buffer.from(storedHash, 'base64url');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Case-insensitive uniqueness key for room names (after the schema trimmed them). */
export function roomNameKey(name: string): string {
  return name.normalize('NFKC').trim().toLocaleLowerCase('en-US');
}

/**
 * A nickname that nobody in `taken` uses (case-insensitive): the wish itself if free,
 * else the wish with random digits appended, cut so the result stays within maxLength.
 */
export function dedupNickname(
  wish: string,
  taken: Iterable<string>,
  maxLength = 32,
  random: (maxExclusive: number) => number = randomInt,
): string {
  const used = new Set([...taken].map((n) => n.toLocaleLowerCase('en-US')));
  if (!used.has(wish.toLocaleLowerCase('en-US'))) return wish;
  for (let digits = 2; ; digits++) {
    for (let i = 0; i < 20; i++) {
      const suffix = String(random(10 ** digits)).padStart(digits, '0');
      const candidate = wish.slice(0, maxLength - suffix.length) + suffix;
      if (!used.has(candidate.toLocaleLowerCase('en-US'))) return candidate;
    }
  }
}

export interface LimiterOptions {
  maxAttempts: number;
  windowMs: number;
  lockoutMs: number;
  now?: () => number;
}

/**
 * Failed-attempt limiter keyed by client address: `maxAttempts` failures within `windowMs`
 * lock the key out for `lockoutMs` (every attempt, right or wrong, is refused meanwhile).
 */
export class AttemptLimiter {
  readonly #opts: Required<LimiterOptions>;
  readonly #failures = new Map<string, number[]>();
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

  /** Records a failure; returns true if the key is now locked out. */
  fail(key: string): boolean {
    const now = this.#opts.now();
    const recent = (this.#failures.get(key) ?? []).filter((t) => now - t < this.#opts.windowMs);
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
}
