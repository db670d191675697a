import { createHash } from 'node:crypto';
import { TuttiError } from '@tutti/protocol';
import type { AuthProviderConfig } from '@tutti/config';
import type { ProviderProfile } from '../AccountService.ts';
import { loginFailure } from './failure.ts';
import { mapProfile } from './profile.ts';
import { PROVIDER_TIMEOUT_SECONDS, type FlowChecks } from './types.ts';
import { ConfiguredProvider } from './configured.ts';

type OAuth2Config = Extract<AuthProviderConfig, { type: 'oauth2' }>;

// GitHub's API refuses requests without a User-Agent.
const HEADERS = { accept: 'application/json', 'user-agent': 'Tutti' };

class OAuthError extends Error {
  readonly error: string;
  constructor(error: string, description: string | undefined) {
    super(description ?? error);
    this.error = error;
  }
}

/**
 * Plain OAuth2 (RFC 6749 code flow) with explicit endpoints: no discovery and no id token;
 * who signed in comes from the userinfo URL through the configured profile paths.
 */
export class OAuth2Provider extends ConfiguredProvider<OAuth2Config> {
  constructor(cfg: OAuth2Config, allowInsecure: boolean) {
    super(cfg);
    for (const url of [cfg.authorizationUrl, cfg.tokenUrl, cfg.userinfoUrl])
      if (!allowInsecure && new URL(url).protocol !== 'https:')
        throw new Error(`auth.providers "${cfg.id}": ${url} is not https`);
  }

  async authorizationUrl(checks: FlowChecks): Promise<URL> {
    const url = new URL(this.cfg.authorizationUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.cfg.clientId);
    url.searchParams.set('redirect_uri', checks.redirectUri);
    url.searchParams.set('state', checks.state);
    if (this.cfg.scopes.length > 0) url.searchParams.set('scope', this.cfg.scopes.join(' '));
    if (checks.codeVerifier) {
      const challenge = createHash('sha256').update(checks.codeVerifier).digest('base64url');
      url.searchParams.set('code_challenge', challenge);
      url.searchParams.set('code_challenge_method', 'S256');
    }
    return url;
  }

  async finish(callbackUrl: URL, checks: FlowChecks): Promise<ProviderProfile> {
    try {
      const q = callbackUrl.searchParams;
      const error = q.get('error');
      if (error) throw new OAuthError(error, q.get('error_description') ?? undefined);
      if (q.get('state') !== checks.state) throw new Error('unexpected "state" response parameter');
      const code = q.get('code');
      if (!code) throw new TuttiError('LOGIN_FAILED', `${this.name} sent no code`);
      const accessToken = await this.#exchange(code, checks);
      const res = await fetch(this.cfg.userinfoUrl, {
        headers: { ...HEADERS, authorization: `Bearer ${accessToken}` },
        signal: AbortSignal.timeout(PROVIDER_TIMEOUT_SECONDS * 1000),
      });
      if (!res.ok) throw new Error(`profile request failed (HTTP ${res.status})`);
      return mapProfile(this.cfg, await res.json());
    } catch (err) {
      throw loginFailure(this.name, err);
    }
  }

  async #exchange(code: string, checks: FlowChecks): Promise<string> {
    const { clientId, clientSecret, tokenAuth } = this.cfg;
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: checks.redirectUri,
    });
    if (checks.codeVerifier) body.set('code_verifier', checks.codeVerifier);
    const headers: Record<string, string> = {
      ...HEADERS,
      'content-type': 'application/x-www-form-urlencoded',
    };
    if (tokenAuth === 'basic' && clientSecret) {
      const enc = (s: string): string => encodeURIComponent(s);
      headers.authorization = `Basic ${btoa(`${enc(clientId)}:${enc(clientSecret)}`)}`;
    } else {
      body.set('client_id', clientId);
      if (clientSecret) body.set('client_secret', clientSecret);
    }
    const res = await fetch(this.cfg.tokenUrl, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(PROVIDER_TIMEOUT_SECONDS * 1000),
    });
    const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    // Some providers (Naver, GitHub) answer errors with HTTP 200 and an `error` field.
    if (typeof data.error === 'string')
      throw new OAuthError(data.error, data.error_description as string | undefined);
    if (!res.ok || typeof data.access_token !== 'string')
      throw new Error(`token request failed (HTTP ${res.status})`);
    return data.access_token;
  }
}
