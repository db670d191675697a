/**
 * Browser e2e: the owner records (record-start / record-stop), both pages show the
 * recording indicator while it runs, and both get a recording-item whose link downloads
 * the composite (an MP4). Two pages with the fake camera and microphone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, type Participant } from '../helpers/browser.ts';

describe('recording in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  const open: Participant[] = [];

  before(async () => {
    browser = await launchBrowser();
    const base = 52_000 + 2 * Math.floor(Math.random() * 3000);
    server = await startTestServer({ recording: { portMin: base, portMax: base + 99 } });
  });

  after(async () => {
    await Promise.all(open.splice(0).map((p) => p.close()));
    await browser?.close();
    await server?.stop();
  });

  test('record, indicator for everyone, an item linking the composite', async () => {
    const owner = await newParticipant(browser, server.url, 'Olga', { cameraHeight: 180 });
    open.push(owner);
    await owner.createRoom({ name: 'Recorded in Chromium' });
    const member = await newParticipant(browser, server.url, 'Max', { cameraHeight: 180 });
    open.push(member);
    await member.joinRoom('Recorded in Chromium');
    await member.waitInRoom();
    await member.waitVideosDecoding(1, 10, 30_000);

    assert.equal(await member.page.getByTestId('record-start').count(), 0, 'owner only');
    assert.equal(await member.page.getByTestId('recording-indicator').count(), 0);
    await owner.page.getByTestId('record-start').click();
    for (const p of [owner, member]) {
      await p.page.getByTestId('recording-indicator').waitFor({ timeout: 15_000 });
    }
    await new Promise((r) => setTimeout(r, 4000));
    await owner.page.getByTestId('record-stop').click();
    for (const p of [owner, member]) {
      await p.page.getByTestId('recording-indicator').waitFor({ state: 'detached' });
      const item = p.page.getByTestId('recording-item');
      await item.waitFor({ timeout: 60_000 });
      const href = await item.locator('a').getAttribute('href');
      assert.ok(href, `${p.nickname}: the item links the composite`);
      const res = await p.page.request.get(new URL(href, server.url).href);
      assert.equal(res.status(), 200);
      assert.equal(res.headers()['content-type'], 'video/mp4');
      assert.ok((await res.body()).length > 10_000, 'a real file');
    }
  });
});
