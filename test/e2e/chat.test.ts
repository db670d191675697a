/**
 * Browser e2e: chat (room + private), history for late joiners, text-only rendering, and
 * file sharing (upload with progress, download of identical bytes, refusals).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { crc32, deflateSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';

const ROOM = 'Chatty room';
const MAX_BYTES = 1024 * 1024;

/** A valid RGB PNG (so the inline preview can decode it): a colour gradient. */
function makePng(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = (x * 255) / w;
      raw[o + 1] = (y * 255) / h;
      raw[o + 2] = 160;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
const PNG = makePng(64, 48);
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n' +
    'x'.repeat(200_000),
);

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('chat and files between browsers', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Participant;
  let bob: Participant;
  let carol: Participant | undefined;

  const messages = (p: Participant) => p.page.getByTestId('chat-message');

  async function send(p: Participant, text: string): Promise<void> {
    await p.page.getByTestId('chat-input').fill(text);
    await p.page.getByTestId('chat-send').click();
  }

  before(async () => {
    // Build the client (if stale) before the server starts serving client/dist.
    browser = await launchBrowser();
    server = await startTestServer({ files: { maxBytes: MAX_BYTES } });
    alice = await newParticipant(browser, server.url, 'Alice', { media: false });
    bob = await newParticipant(browser, server.url, 'Bob', { media: false });
    await alice.createRoom({ name: ROOM });
    await bob.joinRoom(ROOM);
    await bob.waitInRoom();
    await alice.waitParticipantCount(2);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('a message goes both ways between two browsers', async () => {
    await send(alice, 'Hello Bob, welcome!');
    const atBob = messages(bob).filter({ hasText: 'Hello Bob, welcome!' });
    await atBob.waitFor({ timeout: 10_000 });
    assert.match((await atBob.textContent()) ?? '', /Alice/);
    await send(bob, 'Hi Alice 👋');
    await messages(alice).filter({ hasText: 'Hi Alice 👋' }).waitFor({ timeout: 10_000 });
    // The input is cleared after sending.
    assert.equal(await alice.page.getByTestId('chat-input').inputValue(), '');
  });

  test('unread count shows while the chat panel is closed', async () => {
    await bob.page.getByTestId('toggle-chat').click();
    await send(alice, 'are you there?');
    const badge = bob.page.getByTestId('chat-unread');
    await badge.waitFor({ timeout: 10_000 });
    assert.equal((await badge.textContent())?.trim(), '1');
    await bob.page.getByTestId('toggle-chat').click();
    await messages(bob).filter({ hasText: 'are you there?' }).waitFor();
    assert.equal(await badge.count(), 0);
  });

  test('markup is shown as text and links are safe', async () => {
    const evil = '<img src=x onerror="window.__xss=1"><b>bold</b>';
    await send(alice, evil);
    const msg = messages(bob).filter({ hasText: '<img src=x' });
    await msg.waitFor({ timeout: 10_000 });
    assert.equal(await msg.locator('img, b').count(), 0, 'no HTML elements from the text');
    assert.ok((await msg.textContent())?.includes(evil));
    assert.equal(await bob.page.evaluate(() => 'xss' in window || '__xss' in window), false);

    await send(
      alice,
      'docs at https://example.org/guide. and a very ' + 'long'.repeat(80) + ' word',
    );
    const link = messages(bob).locator('a[href="https://example.org/guide"]');
    await link.waitFor({ timeout: 10_000 });
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer nofollow');
    // A long message wraps inside the chat column instead of overflowing it.
    const overflow = await bob.page.evaluate(() => {
      const list = document.querySelector('.messages');
      return list ? list.scrollWidth - list.clientWidth : -1;
    });
    assert.ok(overflow <= 1, `no horizontal overflow (${overflow})`);
  });

  test('a private message reaches only its recipient, live and in history', async () => {
    carol = await newParticipant(browser, server.url, 'Carol', { media: false });
    await carol.joinRoom(ROOM);
    await carol.waitInRoom();
    await carol.waitParticipantCount(3);
    // A late joiner sees the history.
    await messages(carol).filter({ hasText: 'Hello Bob, welcome!' }).waitFor({ timeout: 10_000 });
    await messages(carol).filter({ hasText: 'Hi Alice 👋' }).waitFor();

    // Alice opens the private conversation by clicking Bob.
    await alice.page.getByTestId('participant').filter({ hasText: 'Bob' }).click();
    await send(alice, 'psst, only for Bob');
    const atBob = messages(bob).filter({ hasText: 'psst, only for Bob' });
    await atBob.waitFor({ timeout: 10_000 });
    assert.equal(await atBob.getAttribute('data-private'), 'true');
    const atAlice = messages(alice).filter({ hasText: 'psst, only for Bob' });
    assert.equal(await atAlice.getAttribute('data-private'), 'true');
    // Back to the room chat: the next message is public again.
    await alice.page.getByTestId('chat-back').click();
    await send(alice, 'public again');
    await messages(carol).filter({ hasText: 'public again' }).waitFor({ timeout: 10_000 });
    assert.equal(
      await messages(bob).filter({ hasText: 'public again' }).getAttribute('data-private'),
      null,
    );
    await sleep(500);
    assert.equal(
      await messages(carol).filter({ hasText: 'psst' }).count(),
      0,
      'live: Carol never sees it',
    );

    // Carol comes back (fresh join → history): still not there. Bob still has it after a reload.
    // Reloading a room URL rejoins it by itself (the nickname is remembered).
    await carol.page.reload();
    await carol.waitInRoom();
    await messages(carol).filter({ hasText: 'public again' }).waitFor({ timeout: 10_000 });
    assert.equal(
      await messages(carol).filter({ hasText: 'psst' }).count(),
      0,
      'history: not for Carol',
    );
    assert.equal(await carol.page.getByText('psst, only for Bob').count(), 0);
  });

  test('an image and a PDF uploaded by one browser download byte-identical in another', async () => {
    const input = alice.page.getByTestId('file-input');
    for (const file of [
      { name: 'pixel.png', mimeType: 'image/png', buffer: PNG },
      { name: 'report.pdf', mimeType: 'application/pdf', buffer: PDF },
    ]) {
      await input.setInputFiles(file);
      const item = bob.page.getByTestId('file-message').filter({ hasText: file.name });
      await item.waitFor({ timeout: 20_000 });
      const link = item.getByTestId('file-link');
      const [download] = await Promise.all([bob.page.waitForEvent('download'), link.click()]);
      const saved = await download.path();
      assert.equal(sha256(await readFile(saved)), sha256(file.buffer), `${file.name} bytes match`);
      assert.equal(download.suggestedFilename(), file.name);
      await waitFor(
        async () => (await alice.page.getByTestId('upload-progress').count()) === 0,
        10_000,
        'upload done',
      );
    }
    // The image shows an inline preview that actually decoded.
    const img = bob.page
      .getByTestId('file-message')
      .filter({ hasText: 'pixel.png' })
      .locator('img');
    await waitFor(
      () =>
        img.evaluate(
          (el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0,
        ),
      10_000,
      'preview decoded',
    );
    await bob.page.screenshot({ path: '/tmp/tutti-chat.png' });
  });

  test('a slow upload shows progress and can be cancelled', async () => {
    const cdp = await alice.context.newCDPSession(alice.page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: 100 * 1024,
    });
    try {
      await alice.page.getByTestId('file-input').setInputFiles({
        name: 'slow.pdf',
        mimeType: 'application/pdf',
        // Large enough that loopback socket buffers cannot swallow the body before the
        // throttle bites: the upload must still be running when cancel is clicked.
        buffer: Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(8 * 1024 * 1024)]),
      });
      const progress = alice.page.getByTestId('upload-progress');
      await progress.waitFor({ timeout: 10_000 });
      await waitFor(
        () => progress.evaluate((el) => (el as HTMLProgressElement).value > 0),
        15_000,
        'progress moves',
      );
      await alice.page.getByTestId('upload-cancel').click();
      await progress.waitFor({ state: 'detached', timeout: 10_000 });
      assert.equal(await alice.page.getByTestId('upload-error').count(), 0, 'cancel is no error');
    } finally {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
      await cdp.detach();
    }
    await sleep(1000);
    assert.equal(
      await bob.page.getByTestId('file-message').filter({ hasText: 'slow.pdf' }).count(),
      0,
    );
  });

  test('an oversize file and a forbidden type are refused with readable errors', async () => {
    const input = alice.page.getByTestId('file-input');
    await input.setInputFiles({
      name: 'huge.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(MAX_BYTES + 100_000)]),
    });
    const error = alice.page.getByTestId('upload-error');
    await error.waitFor({ timeout: 20_000 });
    assert.match((await error.textContent()) ?? '', /large|size|limit/i);

    await input.setInputFiles({
      name: 'tool.exe',
      mimeType: 'application/octet-stream',
      buffer: Buffer.concat([Buffer.from('MZ'), randomBytes(4096)]),
    });
    await waitFor(
      async () => /type|allowed/i.test((await error.textContent()) ?? ''),
      20_000,
      'type refusal shown',
    );
    await sleep(300);
    assert.equal(
      await bob.page.getByTestId('file-message').filter({ hasText: 'tool.exe' }).count(),
      0,
    );
    assert.equal(
      await bob.page.getByTestId('file-message').filter({ hasText: 'huge.pdf' }).count(),
      0,
    );
  });
});
