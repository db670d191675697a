import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, startAuthApp, uniqueEmail, type AuthApp } from '../helpers/authApp.ts';

// Accounts over HTTP (sign-up, login, sessions, CSRF, passwords) and behind a public URL.
// The login rate limits are auth.rateLimits.test.ts.

describe('accounts over HTTP', () => {
  let t: AuthApp;
  before(async () => {
    t = await startAuthApp({
      auth: { loginsPerMinutePerAddress: 50, loginsPerMinutePerAccount: 50 },
    });
  });
  after(() => t.close());

  test('sign-up sets an HttpOnly SameSite=Lax session cookie (no Secure over http) and /me knows us', async () => {
    const email = uniqueEmail();
    const r = await call(t.app, 'POST', '/api/auth/signup', {
      body: { email: email.toUpperCase(), password: 'correct horse', name: 'Ada' },
    });
    assert.equal(r.status, 201, r.res.body);
    assert.equal(r.json.user.email, email);
    assert.equal(r.json.user.name, 'Ada');
    assert.equal(r.json.user.hasPassword, true);
    assert.match(r.session!, /HttpOnly/);
    assert.match(r.session!, /SameSite=Lax/);
    assert.match(r.session!, /Path=\//);
    assert.doesNotMatch(r.session!, /Secure/);
    const me = await call(t.app, 'GET', '/api/auth/me', { cookie: r.cookie });
    assert.equal(me.json.user.name, 'Ada');
    const anon = await call(t.app, 'GET', '/api/auth/me');
    assert.equal(anon.json.user, null);
  });

  test('name defaults to the part before @; a second sign-up with the email is EMAIL_TAKEN', async () => {
    const email = uniqueEmail();
    const r = await call(t.app, 'POST', '/api/auth/signup', {
      body: { email, password: 'long enough' },
    });
    assert.equal(r.json.user.name, email.split('@')[0]);
    const again = await call(t.app, 'POST', '/api/auth/signup', {
      body: { email, password: 'other one!' },
    });
    assert.equal(again.status, 409);
    assert.equal(again.json.error, 'EMAIL_TAKEN');
  });

  test('bad bodies are INVALID_REQUEST naming the field', async () => {
    const short = await call(t.app, 'POST', '/api/auth/signup', {
      body: { email: uniqueEmail(), password: 'short' },
    });
    assert.equal(short.status, 400);
    assert.equal(short.json.error, 'INVALID_REQUEST');
    assert.match(short.json.message, /password/);
    const bad = await call(t.app, 'POST', '/api/auth/signup', {
      body: { email: 'nope', password: 'long enough' },
    });
    assert.match(bad.json.message, /email/);
    const extra = await call(t.app, 'POST', '/api/auth/login', {
      body: { email: 'a@b.c', password: 'x', admin: true },
    });
    assert.equal(extra.json.error, 'INVALID_REQUEST');
  });

  test('login: wrong password and unknown email are the same INVALID_CREDENTIALS; the right one signs in', async () => {
    const email = uniqueEmail();
    await call(t.app, 'POST', '/api/auth/signup', { body: { email, password: 'right password' } });
    const wrong = await call(t.app, 'POST', '/api/auth/login', {
      body: { email, password: 'wrong password' },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error, 'INVALID_CREDENTIALS');
    assert.equal(wrong.cookie, undefined);
    const unknown = await call(t.app, 'POST', '/api/auth/login', {
      body: { email: uniqueEmail(), password: 'right password' },
    });
    assert.deepEqual(unknown.json, wrong.json);
    const ok = await call(t.app, 'POST', '/api/auth/login', {
      body: { email: ` ${email.toUpperCase()} `, password: 'right password' },
    });
    assert.equal(ok.status, 200);
    assert.ok(ok.cookie);
    assert.equal(
      (await call(t.app, 'GET', '/api/auth/me', { cookie: ok.cookie })).json.user.email,
      email,
    );
  });

  test('logout ends the session on the server (the old cookie no longer works)', async () => {
    const r = await call(t.app, 'POST', '/api/auth/signup', {
      body: { email: uniqueEmail(), password: 'long enough' },
    });
    const out = await call(t.app, 'POST', '/api/auth/logout', { cookie: r.cookie });
    assert.equal(out.status, 204);
    assert.match(out.session!, /Max-Age=0/);
    assert.equal((await call(t.app, 'GET', '/api/auth/me', { cookie: r.cookie })).json.user, null);
  });

  test('CSRF: a state-changing request from another origin or site is FORBIDDEN', async () => {
    const email = uniqueEmail();
    await call(t.app, 'POST', '/api/auth/signup', { body: { email, password: 'long enough' } });
    const evil = await call(t.app, 'POST', '/api/auth/login', {
      body: { email, password: 'long enough' },
      headers: { origin: 'http://evil.example' },
    });
    assert.equal(evil.status, 403);
    assert.equal(evil.json.error, 'FORBIDDEN');
    assert.equal(evil.cookie, undefined);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(res.statusCode, 403);
    // GETs are not state-changing: no Origin needed.
    assert.equal(
      (
        await call(t.app, 'GET', '/api/auth/providers', {
          headers: { origin: 'http://evil.example' },
        })
      ).status,
      200,
    );
  });

  test('change password: needs the current one, and ends every other session', async () => {
    const email = uniqueEmail();
    const a = await call(t.app, 'POST', '/api/auth/signup', {
      body: { email, password: 'first password' },
    });
    const b = await call(t.app, 'POST', '/api/auth/login', {
      body: { email, password: 'first password' },
    });
    const wrong = await call(t.app, 'POST', '/api/auth/password', {
      cookie: a.cookie,
      body: { currentPassword: 'not it at all', newPassword: 'second password' },
    });
    assert.equal(wrong.json.error, 'INVALID_CREDENTIALS');
    const anon = await call(t.app, 'POST', '/api/auth/password', {
      body: { currentPassword: 'first password', newPassword: 'second password' },
    });
    assert.equal(anon.json.error, 'UNAUTHORIZED');
    const ok = await call(t.app, 'POST', '/api/auth/password', {
      cookie: a.cookie,
      body: { currentPassword: 'first password', newPassword: 'second password' },
    });
    assert.equal(ok.status, 200, ok.res.body);
    assert.ok((await call(t.app, 'GET', '/api/auth/me', { cookie: a.cookie })).json.user);
    assert.equal((await call(t.app, 'GET', '/api/auth/me', { cookie: b.cookie })).json.user, null);
    const old = await call(t.app, 'POST', '/api/auth/login', {
      body: { email, password: 'first password' },
    });
    assert.equal(old.json.error, 'INVALID_CREDENTIALS');
    const fresh = await call(t.app, 'POST', '/api/auth/login', {
      body: { email, password: 'second password' },
    });
    assert.equal(fresh.status, 200);
  });

  test('delete account: password required; then sessions and login are gone and the email is free', async () => {
    const email = uniqueEmail();
    const a = await call(t.app, 'POST', '/api/auth/signup', {
      body: { email, password: 'doomed password' },
    });
    const b = await call(t.app, 'POST', '/api/auth/login', {
      body: { email, password: 'doomed password' },
    });
    const wrong = await call(t.app, 'DELETE', '/api/auth/account', {
      cookie: a.cookie,
      body: { password: 'nope nope' },
    });
    assert.equal(wrong.json.error, 'INVALID_CREDENTIALS');
    const del = await call(t.app, 'DELETE', '/api/auth/account', {
      cookie: a.cookie,
      body: { password: 'doomed password' },
    });
    assert.equal(del.status, 204);
    for (const c of [a.cookie, b.cookie])
      assert.equal((await call(t.app, 'GET', '/api/auth/me', { cookie: c })).json.user, null);
    const login = await call(t.app, 'POST', '/api/auth/login', {
      body: { email, password: 'doomed password' },
    });
    assert.equal(login.json.error, 'INVALID_CREDENTIALS');
    const again = await call(t.app, 'POST', '/api/auth/signup', {
      body: { email, password: 'new life here' },
    });
    assert.equal(again.status, 201);
  });

  test('Secure is added when the request came over HTTPS (trusted proxy)', async () => {
    const p = await startAuthApp({ server: { trustProxy: true } });
    try {
      const r = await call(p.app, 'POST', '/api/auth/signup', {
        body: { email: uniqueEmail(), password: 'long enough' },
        headers: { 'x-forwarded-proto': 'https', origin: 'https://localhost:80' },
      });
      assert.equal(r.status, 201, r.res.body);
      assert.match(r.session!, /; Secure/);
    } finally {
      await p.close();
    }
  });

  test('providers list says whether guests are allowed', async () => {
    const r = await call(t.app, 'GET', '/api/auth/providers');
    assert.deepEqual(r.json, { guests: true, providers: [] });
  });
});

describe('behind a public URL', () => {
  test('the callback is built on server.publicUrl, whose origin also passes the Origin check', async () => {
    const t = await startAuthApp({
      server: { publicUrl: 'https://meet.example.com' },
      auth: {
        providers: [
          {
            id: 'ex',
            name: 'Example',
            type: 'oauth2',
            authorizationUrl: 'https://id.example.com/authorize',
            tokenUrl: 'https://id.example.com/token',
            userinfoUrl: 'https://id.example.com/me',
            clientId: 'c',
            pkce: false,
            profile: { id: 'id' },
          },
        ],
      },
    });
    try {
      const start = await call(t.app, 'GET', '/api/auth/ex/login');
      assert.equal(start.status, 302);
      const location = new URL(String(start.res.headers.location));
      assert.equal(location.origin, 'https://id.example.com');
      assert.equal(
        location.searchParams.get('redirect_uri'),
        'https://meet.example.com/api/auth/ex/callback',
      );
      assert.equal(location.searchParams.get('code_challenge'), null); // pkce: false
      assert.match(
        String(start.res.headers['set-cookie']),
        /tutti_login=.*Path=\/api\/auth.*HttpOnly.*SameSite=Lax/,
      );
      const signup = await call(t.app, 'POST', '/api/auth/signup', {
        body: { email: uniqueEmail(), password: 'long enough' },
        headers: { origin: 'https://meet.example.com' },
      });
      assert.equal(signup.status, 201);
      // A second login in the same browser ends the first session.
      const again = await call(t.app, 'POST', '/api/auth/login', {
        body: { email: signup.json.user.email, password: 'long enough' },
        cookie: signup.cookie,
      });
      assert.equal(again.status, 200);
      assert.equal(
        (await call(t.app, 'GET', '/api/auth/me', { cookie: signup.cookie })).json.user,
        null,
      );
      assert.ok((await call(t.app, 'GET', '/api/auth/me', { cookie: again.cookie })).json.user);
    } finally {
      await t.close();
    }
  });

  test('a provider over http:// is refused at start-up unless allowInsecureProviders (test only)', async () => {
    const providers = [
      {
        id: 'x',
        name: 'X',
        type: 'oauth2',
        authorizationUrl: 'http://x/a',
        tokenUrl: 'http://x/t',
        userinfoUrl: 'http://x/u',
        clientId: 'c',
        profile: { id: 'id' },
      },
    ];
    await assert.rejects(startAuthApp({ auth: { providers } }), /not https/);
    const t = await startAuthApp({ auth: { providers, allowInsecureProviders: true } });
    await t.close();
  });
});
