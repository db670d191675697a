import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signed, stateless tokens (payload.hmac, base64url) so any node sharing `files.secret`
 * can check them. They prove who asked; the room membership is re-checked on every use.
 *  - upload ('u'): obtained over protoo, short-lived.
 *  - access ('a'): per peer and room, no expiry of its own; dies when the peer leaves,
 *    because downloads check that the peer is still a member.
 */
export interface TokenClaims {
  kind: 'u' | 'a';
  peerId: string;
  roomId: string;
  /** ms epoch; upload tokens only. */
  exp?: number;
}

export class TokenSigner {
  readonly #key: Buffer;

  constructor(secret?: string) {
    // Without a configured secret, tokens are valid for this process only (one node).
    this.#key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  sign(claims: TokenClaims): string {
    const payload = Buffer.from(
      JSON.stringify([claims.kind, claims.peerId, claims.roomId, claims.exp ?? 0]),
    ).toString('base64url');
    return `${payload}.${this.#mac(payload)}`;
  }

  /** The claims of a genuine, unexpired token of `kind`, else undefined. */
  verify(token: string, kind: TokenClaims['kind'], now = Date.now()): TokenClaims | undefined {
    const [payload, mac, extra] = token.split('.');
    if (!payload || !mac || extra !== undefined) return undefined;
    const expected = Buffer.from(this.#mac(payload));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!Array.isArray(parsed) || parsed.length !== 4) return undefined;
    const [k, peerId, roomId, exp] = parsed as unknown[];
    if (k !== kind || typeof peerId !== 'string' || typeof roomId !== 'string') return undefined;
    if (typeof exp !== 'number' || (exp !== 0 && exp < now)) return undefined;
    if (kind === 'u' && exp === 0) return undefined;
    return { kind, peerId, roomId, ...(exp !== 0 && { exp }) };
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }
}
