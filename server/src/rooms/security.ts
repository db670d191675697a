import { createHash, randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';
import { NO_ROOM_SETTINGS, type RoomRecord } from '../store/RoomStore.ts';

// Room rules that don't need a room: password hashing, owner secrets, nickname
// de-duplication and the case-insensitive name key (the attempt limiter is attempts.ts).

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

/** A new room's ownership fields: the creator's account (null for a guest), no settings on. */
export function ownedBy(
  ownerAccountId: string | null,
): Pick<RoomRecord, 'ownerAccountId' | 'settings'> {
  return { ownerAccountId, settings: { ...NO_ROOM_SETTINGS } };
}
