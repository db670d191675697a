import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { TuttiError } from '@tutti/protocol';
import type { AccountService, SignedIn } from './AccountService.ts';
import type { ProviderClient } from './providers/types.ts';
import type { AuthStore } from '../store/authStore.ts';

const FLOW_TTL_MS = 10 * 60_000;

/** A same-origin path to come back to; anything else (//evil, https://…) becomes "/". */
export function safeReturnPath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) return '/';
  if (value.includes('\\') || value.length > 500) return '/';
  return value;
}

/**
 * Provider logins: the redirect (a one-use flow with state, nonce and PKCE verifier kept in
 * the store, bound to the browser by a cookie) and the callback (flow taken, provider's
 * answer checked, account found, linked or made).
 */
export class SocialLogin {
  readonly #providers: Map<string, ProviderClient>;
  readonly #store: AuthStore;
  readonly #accounts: AccountService;
  readonly #now: () => number;

  constructor(opts: {
    providers: ProviderClient[];
    store: AuthStore;
    accounts: AccountService;
    now?: () => number;
  }) {
    this.#providers = new Map(opts.providers.map((p) => [p.id, p]));
    this.#store = opts.store;
    this.#accounts = opts.accounts;
    this.#now = opts.now ?? Date.now;
  }

  list(): { id: string; name: string }[] {
    return [...this.#providers.values()].map((p) => ({ id: p.id, name: p.name }));
  }

  #provider(id: string): ProviderClient {
    const p = this.#providers.get(id);
    if (!p) throw new TuttiError('NOT_FOUND', `no login provider "${id}"`);
    return p;
  }

  /** Starts a login: returns the flow id (for the cookie) and where to send the browser. */
  async start(
    providerId: string,
    redirectUri: string,
    returnTo: string,
  ): Promise<{ flowId: string; url: URL }> {
    const provider = this.#provider(providerId);
    const flow = {
      id: randomBytes(24).toString('base64url'),
      provider: provider.id,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: provider.pkce ? oidc.randomPKCECodeVerifier() : null,
      redirectUri,
      returnTo: safeReturnPath(returnTo),
      expiresAt: this.#now() + FLOW_TTL_MS,
    };
    const url = await provider.authorizationUrl(flow);
    await this.#store.putLoginFlow(flow);
    return { flowId: flow.id, url };
  }

  /** The callback: `query` is the provider's answer (the callback URL's query string). */
  async finish(
    providerId: string,
    flowId: string | undefined,
    query: string,
  ): Promise<SignedIn & { returnTo: string }> {
    const provider = this.#provider(providerId);
    const flow = flowId ? await this.#store.takeLoginFlow(flowId, this.#now()) : undefined;
    if (!flow || flow.provider !== provider.id)
      throw new TuttiError(
        'LOGIN_FAILED',
        `${provider.name} login refused: this login has expired or was already completed; start again`,
      );
    const callbackUrl = new URL(flow.redirectUri);
    callbackUrl.search = query;
    if (callbackUrl.searchParams.get('state') !== flow.state)
      throw new TuttiError(
        'LOGIN_FAILED',
        `${provider.name} login refused: the answer does not belong to this login (state mismatch)`,
      );
    const profile = await provider.finish(callbackUrl, flow);
    const signedIn = await this.#accounts.providerLogin(profile);
    return { ...signedIn, returnTo: flow.returnTo };
  }
}
