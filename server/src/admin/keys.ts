import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord, AuthStore } from '../store/authStore.ts';

/** What an operator sees of a key: never the secret, nor its hash. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

/**
 * The HS256 key of a secret's join tokens, and what the store keeps: SHA-256(secret).
 * HMAC needs the verifier to hold the key, so the database holds this digest and never the
 * secret: a leaked database cannot call the admin API (that needs the secret itself), and
 * revoking the key ends the tokens it signed (docs/admin-api.md).
 */
export function signingKeyOf(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

const KEY_ID = /^tk_[A-Za-z0-9]{16}$/;

/** Key ids look like `tk_` + 16 letters and digits (no `:`, so `id:secret` splits once). */
export function isKeyId(id: string): boolean {
  return KEY_ID.test(id);
}

function newKeyId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(16);
  return `tk_${[...bytes].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

const info = (k: ApiKeyRecord): ApiKeyInfo => ({
  id: k.id,
  name: k.name,
  createdAt: k.createdAt,
  revokedAt: k.revokedAt,
});

/** API keys: created and revoked from the command line, checked by the admin API and joins. */
export class ApiKeys {
  readonly #store: AuthStore;
  readonly #now: () => number;

  constructor(store: AuthStore, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /** A new key; the secret is returned here once and kept nowhere. */
  async create(name: string): Promise<ApiKeyInfo & { secret: string }> {
    const secret = randomBytes(32).toString('base64url');
    const record: ApiKeyRecord = {
      id: newKeyId(),
      secretHash: signingKeyOf(secret).toString('base64url'),
      name,
      createdAt: this.#now(),
      revokedAt: null,
    };
    await this.#store.createApiKey(record);
    return { ...info(record), secret };
  }

  async list(): Promise<ApiKeyInfo[]> {
    return (await this.#store.apiKeys()).map(info);
  }

  /** False when there is no such active key. */
  revoke(id: string): Promise<boolean> {
    return this.#store.revokeApiKey(id, this.#now());
  }

  /** The HS256 key of an active key's tokens; undefined for unknown or revoked ones. */
  async signingKey(id: string): Promise<Buffer | undefined> {
    if (!isKeyId(id)) return undefined;
    const key = await this.#store.apiKey(id);
    if (!key || key.revokedAt !== null) return undefined;
    return Buffer.from(key.secretHash, 'base64url');
  }

  /** The active key `id` whose secret is `secret` (constant-time compare), else undefined. */
  async authenticate(id: string, secret: string): Promise<ApiKeyInfo | undefined> {
    if (!isKeyId(id) || secret.length > 256) return undefined;
    const key = await this.#store.apiKey(id);
    if (!key || key.revokedAt !== null) return undefined;
    const stored = Buffer.from(key.secretHash, 'base64url');
    const given = signingKeyOf(secret);
    return stored.length === given.length && timingSafeEqual(stored, given) ? info(key) : undefined;
  }
}
