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

  /** Drops expired sessions and flows. */
  prune(now: number): Promise<void>;
}
