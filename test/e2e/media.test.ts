/**
 * Browser e2e: audio/video between three real Chromium participants (fake devices),
 * screen sharing, mute and leave. One browser, one context per person, ≤ 3 video pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';

const ROOM = 'Media check';

describe('media between three browsers', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Participant;
  let bob: Participant;
  let carol: Participant;

  before(async () => {
    // Build the client (if stale) before the server starts serving client/dist.
    browser = await launchBrowser();
    server = await startTestServer();
    // 540p capture: Chrome then really sends three simulcast layers.
    const opts = { cameraHeight: 540 };
    alice = await newParticipant(browser, server.url, 'Alice', opts);
    bob = await newParticipant(browser, server.url, 'Bob', opts);
    carol = await newParticipant(browser, server.url, 'Carol', opts);
    await alice.createRoom({ name: ROOM });
    await bob.joinRoom(ROOM);
    await bob.waitInRoom();
    await carol.joinRoom(ROOM);
    await carol.waitInRoom();
    for (const p of [alice, bob, carol]) await p.waitParticipantCount(3);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('each of 3 participants decodes 2 remote cameras and receives audio', async () => {
    for (const p of [alice, bob, carol]) {
      const gained = await p.waitVideosDecoding(2, 15);
      assert.equal(gained.length, 2, `${p.nickname} sees two remote videos`);
    }
    for (const p of [alice, bob, carol]) await p.waitAudioFlowing(3000);
    // The fake microphones beep: someone becomes the active speaker and gets highlighted.
    await waitFor(
      async () => (await bob.page.getByTestId('active-speaker').count()) === 1,
      20_000,
      'an active speaker tile',
    );
    // Everyone is listed, self included.
    const names = await alice.page.getByTestId('participant').allTextContents();
    for (const n of ['Alice', 'Bob', 'Carol']) {
      assert.ok(
        names.some((t) => t.includes(n)),
        `${n} listed: ${names.join(', ')}`,
      );
    }
  });

  test('screenshot of a 3-person room', async () => {
    // Let the fake cameras settle into the tiles before taking the picture.
    await sleep(1500);
    await bob.page.screenshot({ path: '/tmp/tutti-room-3.png' });
  });

  test('the stats panel shows live bitrates, loss and layers', async () => {
    await bob.page.getByTestId('open-stats').click();
    const panel = bob.page.getByTestId('stats-panel');
    await panel.waitFor();
    await waitFor(
      async () => {
        const rows = await panel.getByTestId('stats-row').allTextContents();
        // send rows (mic, camera layers) + recv rows (2 people × audio/video)
        return rows.length >= 5 && rows.some((r) => /camera video/.test(r));
      },
      15_000,
      'stats rows',
    );
    await sleep(2200);
    const kbps = await panel
      .getByTestId('stats-row')
      .evaluateAll((rows) => rows.map((r) => Number(r.children[3]?.textContent ?? '0')));
    assert.ok(kbps.filter((k) => k > 0).length >= 4, `bitrates: ${kbps.join(',')}`);
    // Camera simulcast: three layers (r0, r1, r2) are sent.
    const rows = await panel.getByTestId('stats-row').allTextContents();
    const layers = rows.filter((r) => /camera \(r\d\)/.test(r));
    assert.equal(layers.length, 3, `simulcast layers: ${layers.join(' | ')}`);
    await bob.page.screenshot({ path: '/tmp/tutti-stats.png' });
    await bob.page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
  });

  test('a screen share reaches both others and decodes', async () => {
    await alice.page.getByTestId('share-screen').click();
    for (const p of [bob, carol]) {
      await waitFor(
        async () => (await p.videos()).some((v) => v.source === 'screen'),
        20_000,
        `${p.nickname} gets Alice's screen`,
      );
      await p.waitVideosDecoding(3, 10);
    }
  });

  test('two people sharing at once both arrive', async () => {
    await bob.page.getByTestId('share-screen').click();
    await waitFor(
      async () => (await carol.videos()).filter((v) => v.source === 'screen').length === 2,
      20_000,
      'Carol gets both screens',
    );
    const gained = await carol.waitVideosDecoding(4, 10);
    assert.equal(gained.length, 4);
    await waitFor(
      async () => (await alice.videos()).some((v) => v.source === 'screen'),
      20_000,
      "Alice gets Bob's screen",
    );
    await carol.page.screenshot({ path: '/tmp/tutti-room-screens.png' });
    // Stop both shares: the screen videos go away everywhere.
    await alice.page.getByTestId('share-screen').click();
    await bob.page.getByTestId('share-screen').click();
    await waitFor(
      async () => (await carol.videos()).every((v) => v.source !== 'screen'),
      20_000,
      'screens removed at Carol',
    );
  });

  test('mute stops the producer and others see the mark', async () => {
    const aliceId = await alice.page.evaluate(() => window.__tutti?.selfId() ?? '');
    await alice.page.getByTestId('toggle-mic').click();
    await waitFor(
      () => alice.page.evaluate(() => window.__tutti?.producerPaused('mic') === true),
      10_000,
      'Alice mic producer paused',
    );
    const aliceAtBob = bob.page.locator(`[data-testid="participant"][data-peer-id="${aliceId}"]`);
    await waitFor(
      async () => (await aliceAtBob.getAttribute('data-mic')) === 'off',
      10_000,
      'Bob sees Alice muted',
    );
    await bob.page
      .locator(`[data-peer-id="${aliceId}"][data-source="camera"] [data-testid="mute-mark"]`)
      .waitFor({ timeout: 10_000 });
    // Alice's audio stops arriving at Bob while Carol's keeps flowing.
    await sleep(1000);
    const before = await bob.page.evaluate(() => window.__tutti!.inboundBytesByPeer('audio'));
    await sleep(2500);
    const afterMute = await bob.page.evaluate(() => window.__tutti!.inboundBytesByPeer('audio'));
    const carolId = await carol.page.evaluate(() => window.__tutti?.selfId() ?? '');
    const aliceDelta = (afterMute[aliceId] ?? 0) - (before[aliceId] ?? 0);
    const carolDelta = (afterMute[carolId] ?? 0) - (before[carolId] ?? 0);
    assert.ok(aliceDelta < 500, `Alice sends no audio while muted (${aliceDelta} bytes)`);
    assert.ok(carolDelta > 1000, `Carol's audio still flows (${carolDelta} bytes)`);
    // Unmute: the mark goes away.
    await alice.page.getByTestId('toggle-mic').click();
    await waitFor(
      async () => (await aliceAtBob.getAttribute('data-mic')) === 'on',
      10_000,
      'Bob sees Alice unmuted',
    );
  });

  test('camera off shows the avatar to others, on again brings the video back', async () => {
    const bobId = await bob.page.evaluate(() => window.__tutti?.selfId() ?? '');
    const bobAtAlice = alice.page.locator(`[data-testid="participant"][data-peer-id="${bobId}"]`);
    await bob.page.getByTestId('toggle-cam').click();
    await waitFor(
      async () => (await bobAtAlice.getAttribute('data-camera')) === 'off',
      10_000,
      'Alice sees Bob camera off',
    );
    await waitFor(
      () =>
        alice.page
          .locator(`figure[data-peer-id="${bobId}"][data-source="camera"] video`)
          .evaluate((v) => v.classList.contains('hidden')),
      10_000,
      'Bob tile shows the avatar',
    );
    await bob.page.getByTestId('toggle-cam').click();
    await waitFor(
      async () => (await bobAtAlice.getAttribute('data-camera')) === 'on',
      10_000,
      'Alice sees Bob camera on',
    );
    await alice.waitVideosDecoding(2, 10);
  });

  test('the device picker lists the fake devices', async () => {
    await alice.page.getByTestId('open-settings').click();
    const picker = alice.page.getByTestId('device-picker');
    await picker.waitFor();
    for (const id of ['select-mic', 'select-camera']) {
      await waitFor(
        async () => (await picker.getByTestId(id).locator('option').count()) >= 1,
        5_000,
        `${id} options`,
      );
    }
    await alice.page.keyboard.press('Escape');
    await picker.waitFor({ state: 'detached' });
  });

  test('leaving updates the count and shows a notice', async () => {
    await carol.page.getByTestId('leave-room').click();
    await carol.page.getByTestId('room-list').waitFor();
    for (const p of [alice, bob]) {
      await p.waitParticipantCount(2);
      await p.page
        .getByTestId('system-message')
        .filter({ hasText: 'Carol left' })
        .waitFor({ timeout: 10_000 });
      await waitFor(async () => (await p.videos()).length === 1, 10_000, 'Carol video gone');
    }
  });
});
