/**
 * A real OpenID provider (oidc-provider, dev interactions: any login/password) on
 * 127.0.0.1 for the account tests, plus an HTTP-only driver through its login and consent
 * pages (the Chromium test uses the same pages for real).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import ProviderModule from 'oidc-provider';

interface OidcProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type ProviderCtor = new (issuer: string, config: Record<string, unknown>) => OidcProviderInstance;
const Provider = ProviderModule as ProviderCtor;

export interface TestClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface TestOidcProvider {
  /** http://127.0.0.1:<port> (no trailing slash): the issuer. */
  issuer: string;
  /** Registers the clients (after the Tutti server's port is known). */
  configure(clients: TestClient[]): void;
  stop(): Promise<void>;
}

/**
 * The account a login name maps to: sub = the login, email <name>@example.test, verified
 * unless the login ends in "+unverified" (for the linking rules).
 */
export function testAccount(login: string): Record<string, unknown> {
  const unverified = login.endsWith('+unverified');
  const name = login.replace(/\+unverified$/, '');
  return {
    sub: login,
    name: `Test ${name}`,
    email: `${name}@example.test`,
    email_verified: !unverified,
  };
}

/** Listens first (port 0), so Tutti's config can name the issuer before clients exist. */
export async function startOidcProvider(): Promise<TestOidcProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end('provider not configured yet');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    configure(clients) {
      const provider = new Provider(issuer, {
        clients: clients.map((c) => ({
          client_id: c.clientId,
          client_secret: c.clientSecret,
          redirect_uris: c.redirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_post',
        })),
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
        cookies: { keys: ['tutti-test-cookie-key'] },
        features: { devInteractions: { enabled: true } },
        findAccount: (_ctx: unknown, id: string) => ({
          accountId: id,
          claims: () => testAccount(id),
        }),
      });
      handler = provider.callback();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A tiny cookie jar for fetch (name=value per origin, enough for these flows). */
export class CookieJar {
  readonly #cookies = new Map<string, Map<string, string>>();

  header(url: string): string {
    const jar = this.#cookies.get(new URL(url).origin);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  store(url: string, res: Response): void {
    const origin = new URL(url).origin;
    const jar = this.#cookies.get(origin) ?? new Map<string, string>();
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    this.#cookies.set(origin, jar);
  }

  get(url: string, name: string): string | undefined {
    return this.#cookies.get(new URL(url).origin)?.get(name);
  }
}

/** fetch without following redirects, with the jar's cookies. */
export async function jarFetch(
  jar: CookieJar,
  url: string,
  init: RequestInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(url, res);
  return res;
}

/**
 * Follows redirects from `url` and fills the provider's login and consent forms until a
 * redirect reaches `stopAt` (the Tutti callback); returns that callback URL unvisited.
 */
export async function signInAtProvider(
  jar: CookieJar,
  url: string,
  login: string,
  stopAt: string,
): Promise<string> {
  let next = url;
  let method = 'GET';
  let body: URLSearchParams | undefined;
  for (let hop = 0; hop < 20; hop++) {
    if (next.startsWith(stopAt)) return next;
    const res = await jarFetch(jar, next, { method, body });
    method = 'GET';
    body = undefined;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      next = new URL(location, next).href;
      continue;
    }
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([a-z]+)"/.exec(html)?.[1];
    if (!action || !prompt)
      throw new Error(`unexpected provider page (${res.status}): ${html.slice(0, 300)}`);
    next = new URL(action.replace(/&amp;/g, '&'), next).href;
    method = 'POST';
    body = new URLSearchParams(
      prompt === 'login' ? { prompt, login, password: 'any' } : { prompt },
    );
  }
  throw new Error('too many redirects at the provider');
}
