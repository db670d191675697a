import { randomUUID } from 'node:crypto';
import { TuttiError } from '@tutti/protocol';
import { KeyedRateLimiter } from '../kernel/rateLimit.ts';
import type { LoginLimiter } from './loginLimiter.ts';
import { hashPassword, needsRehash, verifyPassword, type Argon2Cost } from './passwords.ts';
import type { Sessions } from './sessions.ts';
import { EmailTakenError, type AuthStore, type UserRecord } from '../store/authStore.ts';

/** What the client sees of an account. */
export interface PublicUser {
  id: string;
  email: string | null;
  name: string;
  hasPassword: boolean;
  /** Provider ids linked to the account. */
  providers: string[];
}

/** What a provider told us about the person (after the code exchange). */
export interface ProviderProfile {
  provider: string;
  subject: string;
  name: string | null;
  email: string | null;
  emailVerified: boolean;
}

export interface AccountServiceOptions {
  store: AuthStore;
  sessions: Sessions;
  limiter: LoginLimiter;
  cost: Argon2Cost;
  signupsPerHourPerAddress: number;
  now?: () => number;
}

export interface SignedIn {
  user: UserRecord;
  /** The new session's cookie token. */
  token: string;
}

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** Email + password accounts, provider accounts, and the rules between them. */
export class AccountService {
  readonly #store: AuthStore;
  readonly #sessions: Sessions;
  readonly #limiter: LoginLimiter;
  readonly #cost: Argon2Cost;
  readonly #signups: KeyedRateLimiter;
  readonly #now: () => number;
  /** Hashed once: unknown emails cost a hash too, so timing does not tell them apart. */
  #dummyHash: Promise<string> | undefined;

  constructor(opts: AccountServiceOptions) {
    this.#store = opts.store;
    this.#sessions = opts.sessions;
    this.#limiter = opts.limiter;
    this.#cost = opts.cost;
    this.#now = opts.now ?? Date.now;
    this.#signups = new KeyedRateLimiter({
      ratePerSecond: opts.signupsPerHourPerAddress / 3600,
      burst: opts.signupsPerHourPerAddress,
    });
  }

  async signup(
    input: { email: string; password: string; name?: string | undefined },
    address: string,
  ): Promise<SignedIn> {
    const email = normalizeEmail(input.email);
    if (!this.#signups.take(address))
      throw new TuttiError('TOO_MANY_ATTEMPTS', 'too many sign-ups from this address');
    // The hash goes through the login limiter too: sign-ups must not buy parallel hashes.
    const passwordHash = await this.#limiter.attempt(address, `signup:${email}`, () =>
      hashPassword(input.password, this.#cost),
    );
    const user: UserRecord = {
      id: randomUUID(),
      email,
      emailVerified: false,
      name: input.name?.trim() || email.split('@')[0]!,
      passwordHash,
      createdAt: this.#now(),
    };
    try {
      await this.#store.createUser(user);
    } catch (err) {
      if (err instanceof EmailTakenError)
        throw new TuttiError('EMAIL_TAKEN', 'an account with this email exists; log in instead');
      throw err;
    }
    return { user, token: await this.#sessions.create(user.id) };
  }

  async login(input: { email: string; password: string }, address: string): Promise<SignedIn> {
    const email = normalizeEmail(input.email);
    const user = await this.#checkPassword(email, input.password, address);
    return { user, token: await this.#sessions.create(user.id) };
  }

  /** The session's user, or undefined (no cookie, expired, deleted account). */
  async userOf(token: string | undefined): Promise<UserRecord | undefined> {
    const session = await this.#sessions.find(token);
    return session ? this.#store.userById(session.userId) : undefined;
  }

  async requireUser(token: string | undefined): Promise<UserRecord> {
    const user = await this.userOf(token);
    if (!user) throw new TuttiError('UNAUTHORIZED', 'not signed in');
    return user;
  }

  async logout(token: string | undefined): Promise<void> {
    if (token) await this.#sessions.end(token);
  }

  /**
   * Sets a new password (the current one is required when the account has one) and ends
   * every other session of the account: a thief holding an old cookie is out.
   */
  async changePassword(
    token: string | undefined,
    input: { currentPassword?: string | undefined; newPassword: string },
    address: string,
  ): Promise<UserRecord> {
    const user = await this.requireUser(token);
    const current = user.passwordHash;
    if (current !== null && input.currentPassword === undefined)
      throw new TuttiError('INVALID_CREDENTIALS', 'current password required');
    // One counted attempt: check the current password, then hash the new one.
    const passwordHash = await this.#limiter.attempt(address, user.email ?? user.id, async () => {
      if (current !== null && !(await verifyPassword(input.currentPassword ?? '', current)))
        throw new TuttiError('INVALID_CREDENTIALS', 'wrong password');
      return hashPassword(input.newPassword, this.#cost);
    });
    await this.#store.updateUser(user.id, { passwordHash });
    await this.#sessions.endOthers(user.id, token);
    return { ...user, passwordHash };
  }

  /** Deletes the account with its identities and sessions (the password confirms it). */
  async deleteAccount(
    token: string | undefined,
    input: { password?: string | undefined },
    address: string,
  ): Promise<void> {
    const user = await this.requireUser(token);
    if (user.passwordHash !== null) {
      if (input.password === undefined)
        throw new TuttiError('INVALID_CREDENTIALS', 'password required');
      await this.#checkUserPassword(user, input.password, address);
    }
    await this.#store.deleteUser(user.id);
  }

  /**
   * A provider vouched for someone: their linked account, else the account with the same
   * VERIFIED email (linked now), else a new account. An unverified provider email never
   * links; it is not even stored as the account's email when another account has it.
   */
  async providerLogin(p: ProviderProfile): Promise<SignedIn> {
    const linked = await this.#store.identity(p.provider, p.subject);
    let user = linked ? await this.#store.userById(linked.userId) : undefined;
    const email = p.email ? normalizeEmail(p.email) : null;
    if (!user && email && p.emailVerified) {
      user = await this.#store.userByEmail(email);
      if (user) await this.#claimByVerifiedEmail(user);
    }
    if (!user) {
      const taken = email ? await this.#store.userByEmail(email) : undefined;
      user = {
        id: randomUUID(),
        email: taken ? null : email,
        emailVerified: !taken && email !== null && p.emailVerified,
        name: p.name?.trim() || email?.split('@')[0] || `${p.provider} user`,
        passwordHash: null,
        createdAt: this.#now(),
      };
      await this.#store.createUser(user);
    }
    if (!linked)
      await this.#store.addIdentity({
        provider: p.provider,
        subject: p.subject,
        userId: user.id,
        email,
        createdAt: this.#now(),
      });
    return { user, token: await this.#sessions.create(user.id) };
  }

  /** Forgets idle rate-limit buckets. */
  prune(): void {
    this.#limiter.prune();
    this.#signups.prune();
  }

  async publicUser(user: UserRecord): Promise<PublicUser> {
    const identities = await this.#store.identitiesOf(user.id);
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      hasPassword: user.passwordHash !== null,
      providers: identities.map((i) => i.provider),
    };
  }

  /**
   * The provider proved the email; whoever signed up with it by password never did (no
   * mail is sent). Pre-hijack guard: that password and its sessions stop working; the
   * owner sets a new password once signed in.
   */
  async #claimByVerifiedEmail(user: UserRecord): Promise<void> {
    if (user.emailVerified) return;
    await this.#store.updateUser(user.id, { emailVerified: true, passwordHash: null });
    await this.#sessions.endOthers(user.id);
    user.emailVerified = true;
    user.passwordHash = null;
  }

  async #checkPassword(email: string, password: string, address: string): Promise<UserRecord> {
    return this.#limiter.attempt(address, email, async () => {
      const user = await this.#store.userByEmail(email);
      const stored = user?.passwordHash ?? (await this.#dummy());
      const ok = await verifyPassword(password, stored);
      if (!user || user.passwordHash === null || !ok)
        throw new TuttiError('INVALID_CREDENTIALS', 'wrong email or password');
      if (needsRehash(user.passwordHash, this.#cost)) {
        const passwordHash = await hashPassword(password, this.#cost);
        await this.#store.updateUser(user.id, { passwordHash });
        user.passwordHash = passwordHash;
      }
      return user;
    });
  }

  async #checkUserPassword(user: UserRecord, password: string, address: string): Promise<void> {
    await this.#limiter.attempt(address, user.email ?? user.id, async () => {
      if (!user.passwordHash || !(await verifyPassword(password, user.passwordHash)))
        throw new TuttiError('INVALID_CREDENTIALS', 'wrong password');
    });
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= hashPassword('tutti-no-such-account', this.#cost);
    return this.#dummyHash;
  }
}
