/**
 * Browser e2e: a remote tile that leaves the viewport has its consumer paused (the client's
 * IntersectionObserver → media.pauseConsumer), so its video stops arriving; back in view it
 * is resumed and decodes again. Three people: Viewer (no devices), Bob and Carol (camera).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { trackMedia, type MediaTracker } from '../../server/test/helpers/mediaTracker.ts';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';

const ROOM = 'Hidden tiles';

describe('tiles out of view pause their consumer', () => {
  let server: TestServer;
  let browser: Browser;
  let media: MediaTracker;
  let viewer: Participant;
  let bob: Participant;
  let carol: Participant;

  before(async () => {
    browser = await launchBrowser();
    media = trackMedia(); // before the server starts, so its worker is seen
    server = await startTestServer();
    viewer = await newParticipant(browser, server.url, 'Viewer', { media: false });
    bob = await newParticipant(browser, server.url, 'Bob');
    carol = await newParticipant(browser, server.url, 'Carol');
    await viewer.createRoom({ name: ROOM });
    for (const p of [bob, carol]) {
      await p.joinRoom(ROOM);
      await p.waitInRoom();
    }
    await viewer.waitParticipantCount(3);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    media?.stop();
  });

  const selfId = (p: Participant) => p.page.evaluate(() => window.__tutti?.selfId() ?? '');
  const videoBytes = (p: Participant) =>
    p.page.evaluate(() => window.__tutti!.inboundBytesByPeer('video'));

  /** The server-side consumer behind the viewer's tile of `peerId`'s camera. */
  async function serverConsumer(peerId: string) {
    const id = await viewer.page.evaluate((peer) => {
      const tracks = window.__tutti?.session.tracks ?? [];
      return (
        tracks.find((t) => t.peerId === peer && t.kind === 'video' && t.source === 'camera')
          ?.consumerId ?? ''
      );
    }, peerId);
    const consumer = [...media.consumers].find((c) => c.id === id);
    assert.ok(consumer, `server consumer ${id} of ${peerId}'s camera`);
    return consumer;
  }

  /** Moves the tile's cell out of the grid's visible area (as if scrolled away) or back. */
  async function moveTile(peerId: string, away: boolean): Promise<void> {
    await viewer.page
      .locator(`figure[data-peer-id="${peerId}"][data-source="camera"]`)
      .evaluate((figure, off) => {
        const cell = figure.parentElement as HTMLElement;
        cell.style.transform = off ? 'translateY(-5000px)' : '';
      }, away);
  }

  test('scrolled out: consumer paused, no video bytes; back in view: resumed and decoding', async () => {
    await viewer.waitVideosDecoding(2, 10);
    const bobId = await selfId(bob);
    const carolId = await selfId(carol);
    const bobAtViewer = await serverConsumer(bobId);
    const carolAtViewer = await serverConsumer(carolId);
    assert.equal(bobAtViewer.paused, false);

    await moveTile(bobId, true);
    await waitFor(() => bobAtViewer.paused, 10_000, "Bob's consumer paused on the server");
    assert.equal(carolAtViewer.paused, false, "Carol's tile is still visible");
    await sleep(1000); // packets in flight
    const before = await videoBytes(viewer);
    await sleep(2500);
    const hidden = await videoBytes(viewer);
    const bobDelta = (hidden[bobId] ?? 0) - (before[bobId] ?? 0);
    const carolDelta = (hidden[carolId] ?? 0) - (before[carolId] ?? 0);
    assert.ok(bobDelta < 2000, `no video from Bob while his tile is hidden (${bobDelta} bytes)`);
    assert.ok(carolDelta > 10_000, `Carol's video keeps flowing (${carolDelta} bytes)`);

    await moveTile(bobId, false);
    await waitFor(() => !bobAtViewer.paused, 10_000, "Bob's consumer resumed on the server");
    await waitFor(
      async () => ((await videoBytes(viewer))[bobId] ?? 0) - (hidden[bobId] ?? 0) > 10_000,
      15_000,
      "Bob's video flowing again",
    );
    await viewer.waitVideosDecoding(2, 10);
  });
});
