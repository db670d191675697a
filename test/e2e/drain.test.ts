/**
 * Browser e2e: a draining server (SIGTERM's drain, begun here in-process) asks the page to
 * move; the page leaves by itself, and rejoins its room once a server takes it again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant } from '../helpers/browser.ts';

let server: TestServer;
let browser: Browser;

before(async () => {
  browser = await launchBrowser();
  // Grace 8 s: members are asked to reconnect within 2 s.
  server = await startTestServer({ server: { drainGraceSeconds: 8 } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('server.draining: the page leaves the draining node and rejoins its room after', async () => {
  const p = await newParticipant(browser, server.url, 'Mover', { media: false });
  try {
    await p.createRoom({ name: 'Moving room' });
    await p.waitInRoom();

    const t0 = Date.now();
    const end = await server.app.tutti.drain.begin();
    assert.equal(end, 'empty', 'the page left before the grace ended');
    assert.ok(Date.now() - t0 < 6000, `left after ${Date.now() - t0} ms`);

    // "The restarted server" (a load balancer's other node): the page is back by itself.
    await server.restart();
    await p.page
      .getByTestId('system-message')
      .filter({ hasText: 'Reconnected' })
      .waitFor({ timeout: 20_000 });
    await p.waitParticipantCount(1);
    const rooms = server.app.tutti.rooms.list();
    assert.equal(rooms.find((r) => r.name === 'Moving room')?.peers, 1);
  } finally {
    await p.close();
  }
});
