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
import { isUniqueViolation, type Migration, type Postgres } from './postgres.ts';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE IF NOT EXISTS auth_users (
        id TEXT PRIMARY KEY,
        email TEXT,
        email_verified BOOLEAN NOT NULL DEFAULT FALSE,
        name TEXT NOT NULL,
        password_hash TEXT,
        created_at BIGINT NOT NULL,
        CONSTRAINT auth_users_email_unique UNIQUE (email)
      );
      CREATE TABLE IF NOT EXISTS auth_identities (
        provider TEXT NOT NULL,
        subject TEXT NOT NULL,
        user_id TEXT NOT NULL,
        email TEXT,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (provider, subject)
      );
      CREATE INDEX IF NOT EXISTS auth_identities_user ON auth_identities (user_id);
      CREATE TABLE IF NOT EXISTS auth_sessions (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS auth_sessions_user ON auth_sessions (user_id);
      CREATE TABLE IF NOT EXISTS auth_login_flows (
        id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      );`,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE IF NOT EXISTS auth_api_keys (
        id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      );`,
  },
];

interface UserRow {
  id: string;
  email: string | null;
  email_verified: boolean;
  name: string;
  password_hash: string | null;
  created_at: string;
  [column: string]: unknown;
}

interface IdentityRow {
  provider: string;
  subject: string;
  user_id: string;
  email: string | null;
  created_at: string;
  [column: string]: unknown;
}

interface SessionRow {
  token_hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
  [column: string]: unknown;
}

const toUser = (r: UserRow): UserRecord => ({
  id: r.id,
  email: r.email,
  emailVerified: r.email_verified,
  name: r.name,
  passwordHash: r.password_hash,
  createdAt: Number(r.created_at),
});

const toIdentity = (r: IdentityRow): IdentityRecord => ({
  provider: r.provider,
  subject: r.subject,
  userId: r.user_id,
  email: r.email,
  createdAt: Number(r.created_at),
});

/** AuthStore on PostgreSQL: the same auth_* tables as SqliteAuthStore. Build it with `open()`. */
export class PgAuthStore implements AuthStore {
  readonly #pg: Postgres;

  private constructor(pg: Postgres) {
    this.#pg = pg;
  }

  static async open(pg: Postgres): Promise<PgAuthStore> {
    await pg.migrate('auth', MIGRATIONS);
    return new PgAuthStore(pg);
  }

  async createUser(u: UserRecord): Promise<void> {
    try {
      await this.#pg.query(
        `INSERT INTO auth_users (id, email, email_verified, name, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [u.id, u.email, u.emailVerified, u.name, u.passwordHash, u.createdAt],
      );
    } catch (err) {
      if (isUniqueViolation(err, 'auth_users_email_unique')) {
        throw new EmailTakenError();
      }
      throw err;
    }
  }

  async userById(id: string): Promise<UserRecord | undefined> {
    const [row] = await this.#pg.query<UserRow>('SELECT * FROM auth_users WHERE id = $1', [id]);
    return row && toUser(row);
  }

  async userByEmail(email: string): Promise<UserRecord | undefined> {
    const [row] = await this.#pg.query<UserRow>('SELECT * FROM auth_users WHERE email = $1', [
      email,
    ]);
    return row && toUser(row);
  }

  async updateUser(
    id: string,
    patch: Partial<Pick<UserRecord, 'passwordHash' | 'emailVerified' | 'name'>>,
  ): Promise<void> {
    const columns: [string, unknown][] = [];
    if (patch.passwordHash !== undefined) columns.push(['password_hash', patch.passwordHash]);
    if (patch.emailVerified !== undefined) columns.push(['email_verified', patch.emailVerified]);
    if (patch.name !== undefined) columns.push(['name', patch.name]);
    if (columns.length === 0) return;
    const set = columns.map(([column], i) => `${column} = $${i + 2}`).join(', ');
    await this.#pg.query(`UPDATE auth_users SET ${set} WHERE id = $1`, [
      id,
      ...columns.map(([, value]) => value),
    ]);
  }

  async deleteUser(id: string): Promise<void> {
    // One statement: the three deletes commit together.
    await this.#pg.query(
      `WITH s AS (DELETE FROM auth_sessions WHERE user_id = $1),
            i AS (DELETE FROM auth_identities WHERE user_id = $1)
       DELETE FROM auth_users WHERE id = $1`,
      [id],
    );
  }

  async identity(provider: string, subject: string): Promise<IdentityRecord | undefined> {
    const [row] = await this.#pg.query<IdentityRow>(
      'SELECT * FROM auth_identities WHERE provider = $1 AND subject = $2',
      [provider, subject],
    );
    return row && toIdentity(row);
  }

  async identitiesOf(userId: string): Promise<IdentityRecord[]> {
    const rows = await this.#pg.query<IdentityRow>(
      'SELECT * FROM auth_identities WHERE user_id = $1 ORDER BY created_at',
      [userId],
    );
    return rows.map(toIdentity);
  }

  async addIdentity(i: IdentityRecord): Promise<void> {
    await this.#pg.query(
      `INSERT INTO auth_identities (provider, subject, user_id, email, created_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [i.provider, i.subject, i.userId, i.email, i.createdAt],
    );
  }

  async createSession(s: SessionRecord): Promise<void> {
    await this.#pg.query(
      'INSERT INTO auth_sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
      [s.tokenHash, s.userId, s.createdAt, s.expiresAt],
    );
  }

  async session(tokenHash: string, now: number): Promise<SessionRecord | undefined> {
    const [row] = await this.#pg.query<SessionRow>(
      'SELECT * FROM auth_sessions WHERE token_hash = $1 AND expires_at > $2',
      [tokenHash, now],
    );
    return row
      ? {
          tokenHash: row.token_hash,
          userId: row.user_id,
          createdAt: Number(row.created_at),
          expiresAt: Number(row.expires_at),
        }
      : undefined;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.#pg.query('DELETE FROM auth_sessions WHERE token_hash = $1', [tokenHash]);
  }

  async deleteSessionsOf(userId: string, keep?: string): Promise<void> {
    await this.#pg.query('DELETE FROM auth_sessions WHERE user_id = $1 AND token_hash <> $2', [
      userId,
      keep ?? '',
    ]);
  }

  async putLoginFlow(flow: LoginFlowRecord): Promise<void> {
    await this.#pg.query(
      'INSERT INTO auth_login_flows (id, data, expires_at) VALUES ($1, $2, $3)',
      [flow.id, JSON.stringify(flow), flow.expiresAt],
    );
  }

  async takeLoginFlow(id: string, now: number): Promise<LoginFlowRecord | undefined> {
    // DELETE … RETURNING: two callbacks racing with the same flow get it once.
    const [row] = await this.#pg.query<{ data: string; expires_at: string }>(
      'DELETE FROM auth_login_flows WHERE id = $1 RETURNING data, expires_at',
      [id],
    );
    if (!row || Number(row.expires_at) <= now) return undefined;
    return JSON.parse(row.data) as LoginFlowRecord;
  }

  async createApiKey(k: ApiKeyRecord): Promise<void> {
    await this.#pg.query(
      `INSERT INTO auth_api_keys (id, secret_hash, name, created_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [k.id, k.secretHash, k.name, k.createdAt, k.revokedAt],
    );
  }

  async apiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.#pg.query<ApiKeyRow>('SELECT * FROM auth_api_keys WHERE id = $1', [
      id,
    ]);
    return row && apiKeyFromRow(row);
  }

  async apiKeys(): Promise<ApiKeyRecord[]> {
    const rows = await this.#pg.query<ApiKeyRow>(
      'SELECT * FROM auth_api_keys ORDER BY created_at, id',
    );
    return rows.map(apiKeyFromRow);
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    const rows = await this.#pg.query<{ id: string }>(
      'UPDATE auth_api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id',
      [at, id],
    );
    return rows.length > 0;
  }

  async prune(now: number): Promise<void> {
    await this.#pg.query('DELETE FROM auth_sessions WHERE expires_at <= $1', [now]);
    await this.#pg.query('DELETE FROM auth_login_flows WHERE expires_at <= $1', [now]);
  }
}
