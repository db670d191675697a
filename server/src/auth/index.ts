import type { DatabaseSync } from 'node:sqlite';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '@tutti/config';
import { AccountService } from './AccountService.ts';
import { readCookie, SESSION_COOKIE } from './cookies.ts';
import { LoginLimiter } from './loginLimiter.ts';
import { OAuth2Provider } from './providers/oauth2.ts';
import { OidcProvider } from './providers/oidc.ts';
import type { ProviderClient } from './providers/types.ts';
import { authRoutes } from './routes.ts';
import { Sessions } from './sessions.ts';
import { SocialLogin } from './SocialLogin.ts';
import { SqliteAuthStore } from '../store/authStoreSqlite.ts';
import type { AuthStore, UserRecord } from '../store/authStore.ts';

export type { AuthStore } from '../store/authStore.ts';
export type { AccountService, PublicUser } from './AccountService.ts';
export type { UserRecord } from '../store/authStore.ts';
export { checkSameOrigin } from './origin.ts';

export interface AuthDeps {
  config: Config;
  /** The store the app picked (store/createStore.ts: SQLite or PostgreSQL)… */
  store?: AuthStore;
  /** …or a SQLite database to keep the auth_* tables in (SqliteAuthStore). */
  db?: DatabaseSync;
}

export interface Auth {
  accounts: AccountService;
  social: SocialLogin;
  store: AuthStore;
  /** Who the request's session cookie belongs to (for other concerns: rooms owned by accounts…). */
  userOfRequest(req: FastifyRequest): Promise<UserRecord | undefined>;
}

/** Builds the account services from config (throws on a provider that is not https). */
export function createAuth(deps: AuthDeps): Auth {
  const { auth } = deps.config;
  const store = deps.store ?? (deps.db && new SqliteAuthStore(deps.db));
  if (!store) throw new Error('createAuth: a store or a SQLite database is needed');
  const sessions = new Sessions(store, auth.sessionTtlDays * 86_400_000);
  const limiter = new LoginLimiter({
    perAddressPerMinute: auth.loginsPerMinutePerAddress,
    perAccountPerMinute: auth.loginsPerMinutePerAccount,
  });
  const accounts = new AccountService({
    store,
    sessions,
    limiter,
    cost: { memoryKiB: auth.argon2MemoryKiB, passes: auth.argon2Passes },
    signupsPerHourPerAddress: auth.signupsPerHourPerAddress,
  });
  const providers: ProviderClient[] = auth.providers.map((p) =>
    p.type === 'oidc'
      ? new OidcProvider(p, auth.allowInsecureProviders)
      : new OAuth2Provider(p, auth.allowInsecureProviders),
  );
  const social = new SocialLogin({ providers, store, accounts });
  const userOfRequest = (req: FastifyRequest) => accounts.userOf(readCookie(req, SESSION_COOKIE));
  return { accounts, social, store, userOfRequest };
}

/**
 * What app.ts calls: builds the services and registers the /api/auth routes; prunes
 * expired sessions and rate-limit buckets every 10 minutes. Returns the services so other
 * concerns (rooms owned by accounts, later) can ask who a request's session belongs to.
 */
export async function registerAuth(
  app: FastifyInstance,
  deps: AuthDeps & { auth?: Auth },
): Promise<Auth> {
  const auth = deps.auth ?? createAuth(deps);
  await app.register(authRoutes, {
    accounts: auth.accounts,
    social: auth.social,
    publicUrl: deps.config.server.publicUrl,
    guests: deps.config.auth.guests,
    sessionTtlSeconds: deps.config.auth.sessionTtlDays * 86_400,
  });
  const timer = setInterval(() => {
    auth.store.prune(Date.now()).catch((err: unknown) => app.log.warn({ err }, 'auth prune'));
    auth.accounts.prune();
  }, 600_000);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
  return auth;
}
