import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';

// Issue #10 item 9: with the security headers on, a real room (camera and mic both ways, the
// signaling WebSocket, a chat image preview from an object URL) runs in Chromium without a
// single Content-Security-Policy violation, reported by the page or in its console.

/** A valid 1×1 PNG (decodes in the inline preview). */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

interface Watched {
  p: Participant;
  console: string[];
}

async function watch(p: Participant): Promise<Watched> {
  const w: Watched = { p, console: [] };
  p.page.on('console', (msg) => {
    if (/content security policy|refused to/i.test(msg.text())) w.console.push(msg.text());
  });
  // The page's own report of every violation (also those the console may fold).
  await p.context.addInitScript(() => {
    const list: string[] = [];
    (window as unknown as { __csp: string[] }).__csp = list;
    document.addEventListener('securitypolicyviolation', (e) =>
      list.push(`${e.violatedDirective} blocked ${e.blockedURI}`),
    );
  });
  return w;
}

const violations = (w: Watched) =>
  w.p.page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);

describe('the client under its Content-Security-Policy', () => {
  let server: TestServer;
  let browser: Browser;
  const watched: Watched[] = [];

  before(async () => {
    browser = await launchBrowser();
    server = await startTestServer();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('media, signaling and an image preview work with no CSP violation', async () => {
    const alice = await watch(await newParticipant(browser, server.url, 'Alice'));
    const bob = await watch(await newParticipant(browser, server.url, 'Bob'));
    watched.push(alice, bob);

    const page = await alice.p.page.goto(server.url + '/');
    const csp = (await page?.allHeaders())?.['content-security-policy'] ?? '';
    assert.match(csp, /frame-ancestors 'none'/, 'the page is served with the policy');

    await alice.p.createRoom({ name: 'CSP room' });
    await bob.p.joinRoom('CSP room');
    await bob.p.waitInRoom();
    await alice.p.waitVideosDecoding(1);
    await bob.p.waitVideosDecoding(1);
    await bob.p.waitAudioFlowing();

    await alice.p.page
      .getByTestId('file-input')
      .setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG });
    const img = bob.p.page
      .getByTestId('file-message')
      .filter({ hasText: 'dot.png' })
      .locator('img');
    await img.waitFor({ timeout: 20_000 });
    await waitFor(
      () =>
        img.evaluate(
          (el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0,
        ),
      10_000,
      'preview decoded',
    );

    for (const w of watched) {
      assert.deepEqual(await violations(w), [], `${w.p.nickname}: securitypolicyviolation events`);
      assert.deepEqual(w.console, [], `${w.p.nickname}: CSP messages in the console`);
    }
  });
});
