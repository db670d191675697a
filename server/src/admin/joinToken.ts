import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ROLES, TuttiError, type Role } from '@tutti/protocol';
import { idSchema, nicknameSchema, safeParseInput } from '@tutti/protocol/schemas';
import { signingKeyOf } from './keys.ts';

/**
 * Join tokens: compact JWS, HS256 (LiveKit-style). Header `{alg:"HS256",typ:"JWT",kid}`;
 * claims `iss` (= kid, the API key id), `sub` (the identity), `name` (the nickname shown),
 * `room` (the room id), `role`, `iat`, `exp` (seconds). The HMAC key is SHA-256 of the API
 * key's secret (keys.ts says why); mintJoinToken() does that step for a backend in Node.
 */
export interface JoinGrantClaims {
  identity: string;
  name?: string | undefined;
  room: string;
  role: Role;
}

export interface VerifiedJoinToken extends JoinGrantClaims {
  keyId: string;
  expiresAt: number;
}

const headerSchema = z.object({ alg: z.string(), typ: z.string().optional(), kid: z.string() });

const claimsSchema = z.object({
  iss: z.string(),
  sub: z.string().min(1).max(128),
  name: nicknameSchema.optional(),
  room: idSchema,
  role: z.enum(ROLES).default('participant'),
  iat: z.number().int().optional(),
  nbf: z.number().int().optional(),
  exp: z.number().int(),
});

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function sign(input: string, key: Buffer): Buffer {
  return createHmac('sha256', key).update(input).digest();
}

export type MintGrant = JoinGrantClaims & { ttlSeconds: number; now?: number };

/** Mints a token as a backend would: with the key id and the secret `keys:create` printed. */
export function mintJoinToken(key: { id: string; secret: string }, grant: MintGrant): string {
  return signJoinToken(key.id, signingKeyOf(key.secret), grant);
}

/** Mints a token with an API key's HS256 key (the server's POST /api/admin/tokens). */
export function signJoinToken(keyId: string, signingKey: Buffer, grant: MintGrant): string {
  const iat = Math.floor((grant.now ?? Date.now()) / 1000);
  const header = b64({ alg: 'HS256', typ: 'JWT', kid: keyId });
  const payload = b64({
    iss: keyId,
    sub: grant.identity,
    ...(grant.name !== undefined && { name: grant.name }),
    room: grant.room,
    role: grant.role,
    iat,
    exp: iat + grant.ttlSeconds,
  });
  const signature = sign(`${header}.${payload}`, signingKey).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

function invalid(why: string): TuttiError {
  return new TuttiError('TOKEN_INVALID', `join token refused: ${why}`);
}

function decode(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export interface VerifyOptions {
  /** The HS256 key of an active API key (undefined: unknown or revoked). */
  signingKey(keyId: string): Promise<Buffer | undefined>;
  /** Longest accepted lifetime (exp − iat, or exp − now without iat), seconds. */
  maxTtlSeconds: number;
  now?: number;
}

/**
 * Throws TOKEN_INVALID (malformed, not HS256, iss ≠ kid, bad signature: tampered),
 * TOKEN_KEY_UNKNOWN (no such key, or revoked) or TOKEN_EXPIRED. The signature is checked
 * before any claim is believed.
 */
export async function verifyJoinToken(
  token: string,
  opts: VerifyOptions,
): Promise<VerifiedJoinToken> {
  const parts = token.split('.');
  if (parts.length !== 3) throw invalid('malformed');
  const [h = '', p = '', s = ''] = parts;
  const header = safeParseInput(headerSchema, decode(h));
  if (!header.success) throw invalid('malformed header');
  // Only HS256: "none" or an algorithm switch is refused outright.
  if (header.data.alg !== 'HS256') throw invalid(`algorithm ${header.data.alg} not accepted`);
  const key = await opts.signingKey(header.data.kid);
  if (!key)
    throw new TuttiError('TOKEN_KEY_UNKNOWN', 'join token refused: unknown or revoked API key');
  const given = Buffer.from(s, 'base64url');
  const expected = sign(`${h}.${p}`, key);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw invalid('bad signature');
  }
  const claims = safeParseInput(claimsSchema, decode(p));
  if (!claims.success) throw invalid('malformed claims');
  const c = claims.data;
  if (c.iss !== header.data.kid) throw invalid('iss and kid differ');
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  if (c.exp <= now) throw new TuttiError('TOKEN_EXPIRED', 'join token expired; ask for a new one');
  if (c.nbf !== undefined && c.nbf > now + 30) throw invalid('not valid yet');
  if (c.exp - (c.iat ?? now) > opts.maxTtlSeconds) {
    throw invalid(`lifetime over ${opts.maxTtlSeconds} s`);
  }
  return {
    keyId: c.iss,
    identity: c.sub,
    name: c.name,
    room: c.room,
    role: c.role,
    expiresAt: c.exp * 1000,
  };
}
