import type { DatabaseSync } from 'node:sqlite';
import { isUniqueViolation } from './sqlite.ts';
import {
  EmailTakenError,
  apiKeyFromRow,
  type ApiKeyRecord,
  type ApiKeyRow,
  type AuthStore,
  type IdentityRecord,
  type LoginFlowRecord,
  type SessionRecord,
  type UserRecord,
} from './authStore.ts';

interface UserRow {
  id: string;
  email: string | null;
  email_verified: number;
  name: string;
  password_hash: string | null;
  created_at: number;
}

interface IdentityRow {
  provider: string;
  subject: string;
  user_id: string;
  email: string | null;
  created_at: number;
}

const toUser = (r: UserRow): UserRecord => ({
  id: r.id,
  email: r.email,
  emailVerified: r.email_verified === 1,
  name: r.name,
  passwordHash: r.password_hash,
  createdAt: r.created_at,
});

const toIdentity = (r: IdentityRow): IdentityRecord => ({
  provider: r.provider,
  subject: r.subject,
  userId: r.user_id,
  email: r.email,
  createdAt: r.created_at,
});

/** AuthStore on node:sqlite: its own auth_* tables in the app's shared database. */
export class SqliteAuthStore implements AuthStore {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS auth_users (
        id TEXT PRIMARY KEY,
        email TEXT UNIQUE,
        email_verified INTEGER NOT NULL DEFAULT 0,
        name TEXT NOT NULL,
        password_hash TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS auth_identities (
        provider TEXT NOT NULL,
        subject TEXT NOT NULL,
        user_id TEXT NOT NULL,
        email TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (provider, subject)
      );
      CREATE INDEX IF NOT EXISTS auth_identities_user ON auth_identities (user_id);
      CREATE TABLE IF NOT EXISTS auth_sessions (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS auth_sessions_user ON auth_sessions (user_id);
      CREATE TABLE IF NOT EXISTS auth_login_flows (
        id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS auth_api_keys (
        id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );`);
  }

  async createUser(u: UserRecord): Promise<void> {
    try {
      this.#db
        .prepare(
          `INSERT INTO auth_users (id, email, email_verified, name, password_hash, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(u.id, u.email, u.emailVerified ? 1 : 0, u.name, u.passwordHash, u.createdAt);
    } catch (err) {
      if (isUniqueViolation(err, 'auth_users.email')) throw new EmailTakenError();
      throw err;
    }
  }

  async userById(id: string): Promise<UserRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM auth_users WHERE id = ?').get(id);
    return row ? toUser(row as unknown as UserRow) : undefined;
  }

  async userByEmail(email: string): Promise<UserRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM auth_users WHERE email = ?').get(email);
    return row ? toUser(row as unknown as UserRow) : undefined;
  }

  async updateUser(
    id: string,
    patch: Partial<Pick<UserRecord, 'passwordHash' | 'emailVerified' | 'name'>>,
  ): Promise<void> {
    if (patch.passwordHash !== undefined)
      this.#db
        .prepare('UPDATE auth_users SET password_hash = ? WHERE id = ?')
        .run(patch.passwordHash, id);
    if (patch.emailVerified !== undefined)
      this.#db
        .prepare('UPDATE auth_users SET email_verified = ? WHERE id = ?')
        .run(patch.emailVerified ? 1 : 0, id);
    if (patch.name !== undefined)
      this.#db.prepare('UPDATE auth_users SET name = ? WHERE id = ?').run(patch.name, id);
  }

  async deleteUser(id: string): Promise<void> {
    this.#db.exec('BEGIN');
    try {
      this.#db.prepare('DELETE FROM auth_sessions WHERE user_id = ?').run(id);
      this.#db.prepare('DELETE FROM auth_identities WHERE user_id = ?').run(id);
      this.#db.prepare('DELETE FROM auth_users WHERE id = ?').run(id);
      this.#db.exec('COMMIT');
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  async identity(provider: string, subject: string): Promise<IdentityRecord | undefined> {
    const row = this.#db
      .prepare('SELECT * FROM auth_identities WHERE provider = ? AND subject = ?')
      .get(provider, subject);
    return row ? toIdentity(row as unknown as IdentityRow) : undefined;
  }

  async identitiesOf(userId: string): Promise<IdentityRecord[]> {
    const rows = this.#db
      .prepare('SELECT * FROM auth_identities WHERE user_id = ? ORDER BY created_at')
      .all(userId);
    return rows.map((r) => toIdentity(r as unknown as IdentityRow));
  }

  async addIdentity(i: IdentityRecord): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO auth_identities (provider, subject, user_id, email, created_at)
         VALUES (?, ?, ?, ?, ?)`,
      )
      .run(i.provider, i.subject, i.userId, i.email, i.createdAt);
  }

  async createSession(s: SessionRecord): Promise<void> {
    this.#db
      .prepare(
        'INSERT INTO auth_sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
      )
      .run(s.tokenHash, s.userId, s.createdAt, s.expiresAt);
  }

  async session(tokenHash: string, now: number): Promise<SessionRecord | undefined> {
    const row = this.#db
      .prepare('SELECT * FROM auth_sessions WHERE token_hash = ? AND expires_at > ?')
      .get(tokenHash, now) as
      { token_hash: string; user_id: string; created_at: number; expires_at: number } | undefined;
    return row
      ? {
          tokenHash: row.token_hash,
          userId: row.user_id,
          createdAt: row.created_at,
          expiresAt: row.expires_at,
        }
      : undefined;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    this.#db.prepare('DELETE FROM auth_sessions WHERE token_hash = ?').run(tokenHash);
  }

  async deleteSessionsOf(userId: string, keep?: string): Promise<void> {
    this.#db
      .prepare('DELETE FROM auth_sessions WHERE user_id = ? AND token_hash != ?')
      .run(userId, keep ?? '');
  }

  async putLoginFlow(flow: LoginFlowRecord): Promise<void> {
    this.#db
      .prepare('INSERT INTO auth_login_flows (id, data, expires_at) VALUES (?, ?, ?)')
      .run(flow.id, JSON.stringify(flow), flow.expiresAt);
  }

  async takeLoginFlow(id: string, now: number): Promise<LoginFlowRecord | undefined> {
    // DELETE … RETURNING: two callbacks racing with the same flow get it once.
    const row = this.#db
      .prepare('DELETE FROM auth_login_flows WHERE id = ? RETURNING data, expires_at')
      .get(id) as { data: string; expires_at: number } | undefined;
    if (!row || row.expires_at <= now) return undefined;
    return JSON.parse(row.data) as LoginFlowRecord;
  }

  async createApiKey(k: ApiKeyRecord): Promise<void> {
    this.#db
      .prepare(
        'INSERT INTO auth_api_keys (id, secret_hash, name, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(k.id, k.secretHash, k.name, k.createdAt, k.revokedAt);
  }

  async apiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM auth_api_keys WHERE id = ?').get(id);
    return row ? apiKeyFromRow(row as unknown as ApiKeyRow) : undefined;
  }

  async apiKeys(): Promise<ApiKeyRecord[]> {
    const rows = this.#db.prepare('SELECT * FROM auth_api_keys ORDER BY created_at, id').all();
    return rows.map((r) => apiKeyFromRow(r as unknown as ApiKeyRow));
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    const result = this.#db
      .prepare('UPDATE auth_api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
      .run(at, id);
    return Number(result.changes) > 0;
  }

  async prune(now: number): Promise<void> {
    this.#db.prepare('DELETE FROM auth_sessions WHERE expires_at <= ?').run(now);
    this.#db.prepare('DELETE FROM auth_login_flows WHERE expires_at <= ?').run(now);
  }
}
