/**
 * Browser e2e, issue 14: a caption appears for a spoken sample. Chromium's fake microphone
 * plays Debian's goforward.raw ("go forward ten meters", as a WAV with silence after it); the
 * owner's page turns captions on and sees the words under the speaker's tile.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, type Participant } from '../helpers/browser.ts';

const GOFORWARD = '/usr/share/pocketsphinx/test/data/goforward.raw';
const ROOM = 'Captioned talk';

describe('live captions in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  let dir: string;
  let owner: Participant;
  let speaker: Participant;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tutti-captions-e2e-'));
    const wav = path.join(dir, 'goforward.wav');
    execFileSync('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 's16le', '-ar', '16000', '-ac', '1'],
      ...['-i', GOFORWARD, '-af', 'apad=pad_dur=3', '-ar', '48000', wav],
    ]);
    browser = await launchBrowser({ extraArgs: [`--use-file-for-fake-audio-capture=${wav}`] });
    server = await startTestServer();
    owner = await newParticipant(browser, server.url, 'Olga', { media: false });
    speaker = await newParticipant(browser, server.url, 'Sam', { cameraHeight: 120 });
    await owner.createRoom({ name: ROOM });
    await speaker.joinRoom(ROOM);
    await owner.waitParticipantCount(2);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the owner turns captions on; the spoken words appear under the speaker’s tile', async () => {
    assert.equal(await speaker.page.getByTestId('captions-toggle').count(), 0, 'owner only');
    await owner.page.getByTestId('captions-toggle').click();
    await owner.page.locator('[data-testid="captions-toggle"][aria-pressed="true"]').waitFor();
    const samId = await speaker.page.evaluate(() => window.__tutti!.selfId());
    // pocketsphinx runs well below real time on a loaded box: allow for it.
    const caption = owner.page.locator(`[data-testid="caption"][data-peer-id="${samId}"]`, {
      hasText: 'forward',
    });
    await caption.first().waitFor({ timeout: 90_000 });
    assert.match((await caption.first().textContent()) ?? '', /forward/);
    // The speaker sees their own words too.
    await speaker.page
      .locator(`[data-testid="caption"][data-peer-id="${samId}"]`, { hasText: 'forward' })
      .first()
      .waitFor({ timeout: 60_000 });
  });
});
