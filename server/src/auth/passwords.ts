import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';

/** argon2id cost; memory in KiB. */
export interface Argon2Cost {
  memoryKiB: number;
  passes: number;
}

const PARALLELISM = 1;
const TAG_LENGTH = 32;
const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(
  password: string,
  salt: Buffer,
  cost: Argon2Cost,
  parallelism: number,
  tagLength: number,
): Promise<Buffer> {
  // crypto.argon2 (callback form) runs on libuv's thread pool: the event loop stays free.
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      {
        message: Buffer.from(password.normalize('NFC'), 'utf8'),
        nonce: salt,
        parallelism,
        tagLength,
        memory: cost.memoryKiB,
        passes: cost.passes,
      },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

const b64 = (buf: Buffer): string => buf.toString('base64').replace(/=+$/, '');

/** A PHC string: $argon2id$v=19$m=…,t=…,p=1$<salt>$<hash> (what the database keeps). */
export async function hashPassword(password: string, cost: Argon2Cost): Promise<string> {
  const salt = randomBytes(16);
  const tag = await derive(password, salt, cost, PARALLELISM, TAG_LENGTH);
  return `$argon2id$v=19$m=${cost.memoryKiB},t=${cost.passes},p=${PARALLELISM}$${b64(salt)}$${b64(tag)}`;
}

/** Checks against a stored PHC string, with the cost it was made with. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = PHC.exec(stored);
  if (!m) return false;
  const cost = { memoryKiB: Number(m[1]), passes: Number(m[2]) };
  const expected = Buffer.from(m[5]!, 'base64');
  const tag = await derive(
    password,
    Buffer.from(m[4]!, 'base64'),
    cost,
    Number(m[3]),
    expected.length,
  );
  return timingSafeEqual(tag, expected);
}

/** True when a stored hash was made with a weaker cost than the current one (rehash on login). */
export function needsRehash(stored: string, cost: Argon2Cost): boolean {
  const m = PHC.exec(stored);
  return !m || Number(m[1]) < cost.memoryKiB || Number(m[2]) < cost.passes;
}
