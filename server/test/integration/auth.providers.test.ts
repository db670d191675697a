import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAuthApp, type AuthApp } from '../helpers/authApp.ts';
import {
  CookieJar,
  jarFetch,
  signInAtProvider,
  startOidcProvider,
  type TestOidcProvider,
} from '../helpers/oidcProvider.ts';

/** A real OpenID provider on 127.0.0.1; Tutti has it twice: as OIDC ("test") and as plain OAuth2 ("plain"). */
describe('social login against a real OpenID provider', () => {
  let op: TestOidcProvider;
  let t: AuthApp;

  before(async () => {
    op = await startOidcProvider();
    t = await startAuthApp(
      {
        auth: {
          allowInsecureProviders: true, // test only: the provider is http://127.0.0.1
          providers: [
            {
              id: 'test',
              name: 'Test OIDC',
              type: 'oidc',
              issuer: op.issuer,
              clientId: 'tutti-oidc',
              clientSecret: 'oidc-secret',
            },
            {
              id: 'plain',
              name: 'Plain OAuth2',
              type: 'oauth2',
              authorizationUrl: `${op.issuer}/auth`,
              tokenUrl: `${op.issuer}/token`,
              userinfoUrl: `${op.issuer}/me`,
              clientId: 'tutti-plain',
              clientSecret: 'plain-secret',
              scopes: ['openid', 'email', 'profile'],
              profile: { id: 'sub', name: 'name', email: 'email', emailVerified: 'email_verified' },
            },
            // Same server, another spelling: its metadata names a different issuer.
            {
              id: 'wrongiss',
              name: 'Wrong issuer',
              type: 'oidc',
              issuer: op.issuer.replace('127.0.0.1', 'localhost'),
              clientId: 'tutti-oidc',
              clientSecret: 'oidc-secret',
            },
          ],
        },
      },
      true,
    );
    op.configure([
      {
        clientId: 'tutti-oidc',
        clientSecret: 'oidc-secret',
        redirectUris: [`${t.url}/api/auth/test/callback`, `${t.url}/api/auth/wrongiss/callback`],
      },
      {
        clientId: 'tutti-plain',
        clientSecret: 'plain-secret',
        redirectUris: [`${t.url}/api/auth/plain/callback`],
      },
    ]);
  });
  after(async () => {
    await t?.close();
    await op?.stop();
  });

  /** Starts a login at Tutti and signs in at the provider; returns the callback URL, unvisited. */
  async function toCallback(
    jar: CookieJar,
    provider: string,
    login: string,
    returnTo = '/',
  ): Promise<string> {
    const start = await jarFetch(
      jar,
      `${t.url}/api/auth/${provider}/login?return=${encodeURIComponent(returnTo)}`,
    );
    assert.equal(start.status, 302, await start.text());
    const location = start.headers.get('location')!;
    assert.ok(location.startsWith(op.issuer), location);
    const auth = new URL(location);
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(auth.searchParams.get('state'));
    assert.equal(auth.searchParams.get('redirect_uri'), `${t.url}/api/auth/${provider}/callback`);
    return signInAtProvider(jar, location, login, `${t.url}/api/auth/${provider}/callback`);
  }

  async function me(jar: CookieJar) {
    const res = await jarFetch(jar, `${t.url}/api/auth/me`);
    return (
      (await res.json()) as {
        user: { id: string; name: string; email: string | null; providers: string[] } | null;
      }
    ).user;
  }

  test('lists the providers', async () => {
    const res = await fetch(`${t.url}/api/auth/providers`);
    assert.deepEqual(((await res.json()) as { providers: unknown }).providers, [
      { id: 'test', name: 'Test OIDC' },
      { id: 'plain', name: 'Plain OAuth2' },
      { id: 'wrongiss', name: 'Wrong issuer' },
    ]);
  });

  test('OIDC: redirect, provider login, callback → signed in and sent back to the return path', async () => {
    const jar = new CookieJar();
    const callback = await toCallback(jar, 'test', 'alice', '/#/room/abc');
    const res = await jarFetch(jar, callback);
    assert.equal(res.status, 302, await res.text());
    assert.equal(res.headers.get('location'), '/#/room/abc');
    assert.ok(jar.get(t.url, 'tutti_session'));
    const user = await me(jar);
    assert.equal(user?.name, 'Test alice');
    assert.equal(user?.email, 'alice@example.test');
    assert.deepEqual(user?.providers, ['test']);
  });

  test('plain OAuth2 with a profile mapping; the verified email links it to the same account', async () => {
    const first = new CookieJar();
    await jarFetch(first, await toCallback(first, 'test', 'carol'));
    const viaOidc = await me(first);
    const jar = new CookieJar();
    const res = await jarFetch(jar, await toCallback(jar, 'plain', 'carol'));
    assert.equal(res.status, 302);
    const user = await me(jar);
    assert.equal(user?.id, viaOidc?.id);
    assert.deepEqual(user?.providers.sort(), ['plain', 'test']);
  });

  test('linking: an unverified email never links; a verified one takes over a password account', async () => {
    const signup = await fetch(`${t.url}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: t.url },
      body: JSON.stringify({ email: 'bob@example.test', password: 'bobs password' }),
    });
    assert.equal(signup.status, 201);
    const bob = ((await signup.json()) as { user: { id: string } }).user;
    const squatter = new CookieJar();
    await jarFetch(squatter, await toCallback(squatter, 'test', 'bob+unverified'));
    const other = await me(squatter);
    assert.notEqual(other?.id, bob.id);
    assert.equal(other?.email, null);
    const real = new CookieJar();
    await jarFetch(real, await toCallback(real, 'test', 'bob'));
    const linked = await me(real);
    assert.equal(linked?.id, bob.id);
    // Whoever signed up with the unproven email loses that password.
    const login = await fetch(`${t.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: t.url },
      body: JSON.stringify({ email: 'bob@example.test', password: 'bobs password' }),
    });
    assert.equal(login.status, 401);
  });

  test('state mismatch is refused with a readable page (browser) or JSON', async () => {
    const jar = new CookieJar();
    const callback = new URL(await toCallback(jar, 'test', 'dave'));
    callback.searchParams.set('state', 'forged-state');
    const res = await jarFetch(jar, callback.href, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type')!, /text\/html/);
    assert.match(await res.text(), /state mismatch/);
    assert.equal(jar.get(t.url, 'tutti_session'), undefined);
  });

  test('a replayed code is refused: by us (flow used) and by the provider (code used)', async () => {
    const jar = new CookieJar();
    const callback = await toCallback(jar, 'test', 'erin');
    assert.equal((await jarFetch(jar, callback)).status, 302);
    // The same callback again (the flow is gone).
    const again = await jarFetch(jar, callback);
    assert.equal(again.status, 400);
    const body = (await again.json()) as { error: string; message: string };
    assert.equal(body.error, 'LOGIN_FAILED');
    assert.match(body.message, /already completed/);
    // The old code inside a fresh flow: the provider refuses the exchange.
    const fresh = new CookieJar();
    const start = await jarFetch(fresh, `${t.url}/api/auth/test/login`);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const replay = new URL(callback);
    replay.searchParams.set('state', state);
    const res = await jarFetch(fresh, replay.href);
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /replayed code/);
    assert.equal(fresh.get(t.url, 'tutti_session'), undefined);
  });

  test('a wrong issuer is refused: in the callback (RFC 9207 iss) and at discovery', async () => {
    const jar = new CookieJar();
    const callback = new URL(await toCallback(jar, 'test', 'frank'));
    assert.equal(callback.searchParams.get('iss'), op.issuer);
    callback.searchParams.set('iss', 'http://evil.example');
    const res = await jarFetch(jar, callback.href);
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /wrong issuer/);
    const start = await jarFetch(new CookieJar(), `${t.url}/api/auth/wrongiss/login`, {
      headers: { accept: 'text/html' },
    });
    assert.equal(start.status, 400);
    assert.match(await start.text(), /wrong issuer/);
  });

  test('an unknown provider is NOT_FOUND; a return path off-site falls back to "/"', async () => {
    const res = await fetch(`${t.url}/api/auth/nope/login`, { redirect: 'manual' });
    assert.equal(res.status, 404);
    const jar = new CookieJar();
    const r = await jarFetch(jar, await toCallback(jar, 'test', 'gina', '//evil.example/x'));
    assert.equal(r.headers.get('location'), '/');
  });
});
