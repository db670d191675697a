import type { ProviderProfile } from '../AccountService.ts';

/** The per-login secrets a provider client needs (kept server-side between redirect and callback). */
export interface FlowChecks {
  state: string;
  nonce: string;
  /** null when the provider is configured without PKCE (Naver). */
  codeVerifier: string | null;
  /** The exact callback URL sent in the authorization request. */
  redirectUri: string;
}

/** One configured provider: where to send the browser, and how to read its answer. */
export interface ProviderClient {
  readonly id: string;
  readonly name: string;
  readonly pkce: boolean;
  authorizationUrl(checks: FlowChecks): Promise<URL>;
  /**
   * Exchanges the code of `callbackUrl` (the redirect URI with the provider's query) and
   * returns who signed in. Throws LOGIN_FAILED with a readable reason.
   */
  finish(callbackUrl: URL, checks: FlowChecks): Promise<ProviderProfile>;
}

/** Network calls to providers give up after this long. */
export const PROVIDER_TIMEOUT_SECONDS = 10;
