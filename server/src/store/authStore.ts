/**
 * What accounts keep: users, their provider identities, sessions and pending provider
 * logins. Async so a networked implementation (PostgreSQL, with the cluster) fits the same
 * shape; SqliteAuthStore is the embedded one.
 */
export interface UserRecord {
  id: string;
  /** Lower-cased; null for a provider account that gave no email. */
  email: string | null;
  /** A provider vouched for the email (password sign-ups are never verified: no mail is sent). */
  emailVerified: boolean;
  name: string;
  /** argon2id PHC string; null for provider-only accounts. */
  passwordHash: string | null;
  createdAt: number;
}

export interface IdentityRecord {
  provider: string;
  /** The provider's stable user id (OIDC `sub`). */
  subject: string;
  userId: string;
  email: string | null;
  createdAt: number;
}

export interface SessionRecord {
  /** sha256 of the cookie's token: a database leak does not hand out sessions. */
  tokenHash: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
}

/** A provider login between the redirect and the callback (one use). */
export interface LoginFlowRecord {
  id: string;
  provider: string;
  state: string;
  nonce: string;
  codeVerifier: string | null;
  redirectUri: string;
  /** Where to send the browser afterwards (a same-origin path). */
  returnTo: string;
  expiresAt: number;
}

/** An API key (admin API, join tokens): the secret itself is never stored (docs/admin-api.md). */
export interface ApiKeyRecord {
  /** Public: `kid`/`iss` of its join tokens, the first half of the admin API credential. */
  id: string;
  /** SHA-256 of the secret (32 bytes, base64url): checks admin API calls, signs join tokens. */
  secretHash: string;
  /** What it is for (the operator's note). */
  name: string;
  createdAt: number;
  /** When it was revoked (its tokens and admin calls are refused from then on); null: active. */
  revokedAt: number | null;
}

/** An auth_api_keys row as either database returns it (PostgreSQL BIGINTs come as strings). */
export interface ApiKeyRow {
  id: string;
  secret_hash: string;
  name: string;
  created_at: number | string;
  revoked_at: number | string | null;
  [column: string]: unknown;
}

export const apiKeyFromRow = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id,
  secretHash: r.secret_hash,
  name: r.name,
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

export class EmailTakenError extends Error {
  constructor() {
    super('email taken');
    this.name = 'EmailTakenError';
  }
}

export interface AuthStore {
  /** Throws EmailTakenError when the email belongs to another user. */
  createUser(user: UserRecord): Promise<void>;
  userById(id: string): Promise<UserRecord | undefined>;
  userByEmail(email: string): Promise<UserRecord | undefined>;
  updateUser(
    id: string,
    patch: Partial<Pick<UserRecord, 'passwordHash' | 'emailVerified' | 'name'>>,
  ): Promise<void>;
  /** The user, their identities and their sessions. */
  deleteUser(id: string): Promise<void>;

  identity(provider: string, subject: string): Promise<IdentityRecord | undefined>;
  identitiesOf(userId: string): Promise<IdentityRecord[]>;
  addIdentity(identity: IdentityRecord): Promise<void>;

  createSession(session: SessionRecord): Promise<void>;
  /** Only while not expired. */
  session(tokenHash: string, now: number): Promise<SessionRecord | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Every session of the user but `keep` (a password change keeps the current one). */
  deleteSessionsOf(userId: string, keep?: string): Promise<void>;

  putLoginFlow(flow: LoginFlowRecord): Promise<void>;
  /** Returns and deletes it (so a replayed callback finds nothing); undefined when expired. */
  takeLoginFlow(id: string, now: number): Promise<LoginFlowRecord | undefined>;

  createApiKey(key: ApiKeyRecord): Promise<void>;
  /** Revoked keys too (the caller checks revokedAt). */
  apiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Every key, oldest first. */
  apiKeys(): Promise<ApiKeyRecord[]>;
  /** Marks it revoked; false when there is no such key (or it already was). */
  revokeApiKey(id: string, at: number): Promise<boolean>;

  /** Drops expired sessions and flows. */
  prune(now: number): Promise<void>;
}
