/**
 * Browser e2e: accounts in the lobby — sign up, log out, log in — and social login through
 * a real OpenID provider on 127.0.0.1 (as OIDC and as plain OAuth2), coming back signed in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  startOidcProvider,
  type TestOidcProvider,
} from '../../server/test/helpers/oidcProvider.ts';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, type Participant } from '../helpers/browser.ts';

describe('accounts in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  let op: TestOidcProvider;
  const open: Participant[] = [];

  async function person(name: string): Promise<Participant> {
    const p = await newParticipant(browser, server.url, name, { media: false });
    open.push(p);
    return p;
  }

  before(async () => {
    browser = await launchBrowser(); // builds the client first when stale
    op = await startOidcProvider();
    server = await startTestServer({
      auth: {
        allowInsecureProviders: true, // test only: the provider is plain http on 127.0.0.1
        argon2MemoryKiB: 4096,
        argon2Passes: 1,
        providers: [
          {
            id: 'local',
            name: 'Local OIDC',
            type: 'oidc',
            issuer: op.issuer,
            clientId: 'tutti-oidc',
            clientSecret: 'oidc-secret',
          },
          {
            id: 'plain',
            name: 'Local OAuth2',
            type: 'oauth2',
            authorizationUrl: `${op.issuer}/auth`,
            tokenUrl: `${op.issuer}/token`,
            userinfoUrl: `${op.issuer}/me`,
            clientId: 'tutti-plain',
            clientSecret: 'plain-secret',
            scopes: ['openid', 'email', 'profile'],
            profile: { id: 'sub', name: 'name', email: 'email', emailVerified: 'email_verified' },
          },
        ],
      },
    });
    // The callback URLs are exact (no wildcards): registered once the server's port is known.
    op.configure([
      {
        clientId: 'tutti-oidc',
        clientSecret: 'oidc-secret',
        redirectUris: [`${server.url}/api/auth/local/callback`],
      },
      {
        clientId: 'tutti-plain',
        clientSecret: 'plain-secret',
        redirectUris: [`${server.url}/api/auth/plain/callback`],
      },
    ]);
  });

  after(async () => {
    await Promise.all(open.map((p) => p.close()));
    await browser?.close();
    await server?.stop();
    await op?.stop();
  });

  test('sign up, log out, log in; the nickname defaults to the account name', async () => {
    const { page } = await person('unused');
    await page.goto(server.url + '/');
    await page.getByTestId('signup-email').fill('ada@example.test');
    await page.getByTestId('signup-password').fill('analytical engine');
    await page.getByTestId('signup-submit').click();
    await page.getByTestId('account-name').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('account-name').textContent(), 'ada');
    assert.equal(await page.getByTestId('nickname').inputValue(), 'ada');
    // The session survives a reload (cookie).
    await page.reload();
    await page.getByTestId('account-name').waitFor({ timeout: 10_000 });

    await page.getByTestId('logout').click();
    await page.getByTestId('login-email').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('account-name').count(), 0);

    await page.getByTestId('login-email').fill('ada@example.test');
    await page.getByTestId('login-password').fill('wrong password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('account-error').waitFor({ timeout: 10_000 });
    assert.match(
      (await page.getByTestId('account-error').textContent()) ?? '',
      /wrong email or password/,
    );

    await page.getByTestId('login-password').fill('analytical engine');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('account-name').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('account-name').textContent(), 'ada');
  });

  for (const provider of ['local', 'plain'] as const) {
    test(`provider button "${provider}": the provider's page, then back signed in`, async () => {
      const { page } = await person('unused');
      await page.goto(server.url + '/');
      await page.getByTestId(`login-provider-${provider}`).click();
      // oidc-provider's dev login form, then its consent form.
      await page.locator('input[name=login]').waitFor({ timeout: 10_000 });
      assert.ok(page.url().startsWith(op.issuer), page.url());
      await page.locator('input[name=login]').fill('grace');
      await page.locator('input[name=password]').fill('anything');
      await page.locator('button[type=submit]').click();
      await page
        .locator('input[name=prompt][value=consent]')
        .waitFor({ state: 'attached', timeout: 10_000 });
      await page.locator('button[type=submit]').click();
      await page.getByTestId('account-name').waitFor({ timeout: 10_000 });
      assert.ok(page.url().startsWith(server.url), page.url());
      assert.equal(await page.getByTestId('account-name').textContent(), 'Test grace');
      assert.equal(await page.getByTestId('nickname').inputValue(), 'Test grace');
    });
  }

  test('a forged callback shows a readable refusal', async () => {
    const { page } = await person('unused');
    await page.goto(`${server.url}/api/auth/local/callback?code=stolen&state=forged`);
    const text = (await page.getByTestId('login-error').textContent()) ?? '';
    assert.match(text, /Local OIDC login refused/);
  });
});
