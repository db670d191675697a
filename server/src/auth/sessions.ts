import { createHash, randomBytes } from 'node:crypto';
import type { AuthStore, SessionRecord } from '../store/authStore.ts';

/** The cookie carries the token; the store only its sha256. */
export const hashToken = (token: string): string =>
  createHash('sha256').update(token).digest('base64url');

/** Server-side sessions: 32 random bytes in the cookie, looked up by hash. */
export class Sessions {
  readonly #store: AuthStore;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(store: AuthStore, ttlMs: number, now: () => number = Date.now) {
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get ttlSeconds(): number {
    return Math.floor(this.#ttlMs / 1000);
  }

  /** A new session for the user; returns the cookie token. */
  async create(userId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const now = this.#now();
    await this.#store.createSession({
      tokenHash: hashToken(token),
      userId,
      createdAt: now,
      expiresAt: now + this.#ttlMs,
    });
    return token;
  }

  async find(token: string | undefined): Promise<SessionRecord | undefined> {
    if (!token || token.length > 100) return undefined;
    return this.#store.session(hashToken(token), this.#now());
  }

  async end(token: string): Promise<void> {
    await this.#store.deleteSession(hashToken(token));
  }

  /** Ends every session of the user except the one with `keepToken`. */
  async endOthers(userId: string, keepToken?: string): Promise<void> {
    await this.#store.deleteSessionsOf(userId, keepToken ? hashToken(keepToken) : undefined);
  }
}
