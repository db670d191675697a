import * as oidc from 'openid-client';
import { TuttiError } from '@tutti/protocol';
import type { AuthProviderConfig } from '@tutti/config';
import type { ProviderProfile } from '../AccountService.ts';
import { loginFailure } from './failure.ts';
import { mapProfile } from './profile.ts';
import { PROVIDER_TIMEOUT_SECONDS, type FlowChecks } from './types.ts';
import { ConfiguredProvider } from './configured.ts';

type OidcConfig = Extract<AuthProviderConfig, { type: 'oidc' }>;

/**
 * OpenID Connect through openid-client: discovery (once, retried after a failure), PKCE,
 * state, nonce, the id token's signature, issuer and audience, and RFC 9207's `iss`.
 */
export class OidcProvider extends ConfiguredProvider<OidcConfig> {
  readonly #allowInsecure: boolean;
  #discovered: Promise<oidc.Configuration> | undefined;

  constructor(cfg: OidcConfig, allowInsecure: boolean) {
    super(cfg);
    this.#allowInsecure = allowInsecure;
  }

  async authorizationUrl(checks: FlowChecks): Promise<URL> {
    const config = await this.#config();
    const params: Record<string, string> = {
      redirect_uri: checks.redirectUri,
      scope: this.cfg.scopes.join(' '),
      state: checks.state,
      nonce: checks.nonce,
    };
    if (checks.codeVerifier) {
      params.code_challenge = await oidc.calculatePKCECodeChallenge(checks.codeVerifier);
      params.code_challenge_method = 'S256';
    }
    return oidc.buildAuthorizationUrl(config, params);
  }

  async finish(callbackUrl: URL, checks: FlowChecks): Promise<ProviderProfile> {
    const config = await this.#config();
    try {
      const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        pkceCodeVerifier: checks.codeVerifier ?? undefined,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims) throw new TuttiError('LOGIN_FAILED', `${this.name} sent no id token`);
      let userinfo: Record<string, unknown> = {};
      if (config.serverMetadata().userinfo_endpoint) {
        // Userinfo adds what the id token leaves out (email, name); signed claims win.
        userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      }
      return mapProfile(this.cfg, { ...userinfo, ...claims });
    } catch (err) {
      throw loginFailure(this.name, err);
    }
  }

  #config(): Promise<oidc.Configuration> {
    this.#discovered ??= this.#discover().catch((err: unknown) => {
      this.#discovered = undefined;
      throw loginFailure(this.name, err);
    });
    return this.#discovered;
  }

  async #discover(): Promise<oidc.Configuration> {
    const secret = this.cfg.clientSecret;
    const config = await oidc.discovery(
      new URL(this.cfg.issuer),
      this.cfg.clientId,
      undefined,
      secret ? oidc.ClientSecretPost(secret) : oidc.None(),
      {
        timeout: PROVIDER_TIMEOUT_SECONDS,
        execute: this.#allowInsecure ? [oidc.allowInsecureRequests] : [],
      },
    );
    config.timeout = PROVIDER_TIMEOUT_SECONDS;
    return config;
  }
}
