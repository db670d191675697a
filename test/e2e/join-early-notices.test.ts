/**
 * Browser e2e: what the server tells about a one-reply join's consumers while the page is
 * still making them is not lost. From the join's answer on those consumers are the
 * server's (already resumed there), so a share stopped or a mic muted at that moment is
 * told (`media.consumerClosed`, `media.consumerPaused`) before the page has the consumer.
 * Bob's receive PeerConnection here holds its first remote offer until Alice has stopped
 * her screen share and muted her mic; then Bob must show no screen of hers and know her
 * mic is paused. Two Chromium pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor, type Participant } from '../helpers/browser.ts';
import {
  roomIdOf,
  startBrowserPair,
  storeNickname,
  waitCameraProduced,
  waitProducer,
  type BrowserPair,
} from '../helpers/browserPair.ts';

const HOST = '127.0.16.11';

/** The first PeerConnection given a remote offer holds it until `window.__release()`. */
const HOLD_FIRST_OFFER = `(() => {
  const srd = RTCPeerConnection.prototype.setRemoteDescription;
  let victim = null;
  let release;
  const released = new Promise((r) => (release = r));
  window.__held = false;
  window.__release = () => release();
  RTCPeerConnection.prototype.setRemoteDescription = async function (d, ...rest) {
    if (d && d.type === 'offer' && (victim === null || victim === this)) {
      victim = this;
      window.__held = true;
      await released;
    }
    return srd.call(this, d, ...rest);
  };
})();`;

interface TrackView {
  kind: string;
  source: string;
  peerId: string;
  producerPaused: boolean;
}

const tracksOf = (p: Participant): Promise<TrackView[]> =>
  p.page.evaluate(() =>
    (window.__tutti?.session.tracks ?? []).map((t) => ({
      kind: t.kind,
      source: t.source,
      peerId: t.peerId,
      producerPaused: t.producerPaused,
    })),
  );

describe("a one-reply join's consumers, told about before the page has made them", () => {
  let pair: BrowserPair;
  let alice: Participant;
  let bob: Participant;

  before(async () => {
    pair = await startBrowserPair(HOST);
    ({ alice, bob } = pair);
    await storeNickname(bob, 'Bob');
    await bob.context.addInitScript(HOLD_FIRST_OFFER);
  });

  after(async () => {
    await pair?.close();
  });

  test('a share stopped and a mic muted as Bob joins: no ghost screen, the mic paused', async () => {
    await alice.createRoom({ name: 'Early notices' });
    await waitCameraProduced(alice);
    await alice.page.getByTestId('share-screen').click();
    await waitProducer(alice, 'screen', false);
    await waitProducer(alice, 'mic', false);
    const roomId = roomIdOf(alice);
    await bob.page.goto(`${pair.server.url}/#/room/${encodeURIComponent(roomId)}`);
    await waitFor(
      async () =>
        (await bob.page.evaluate(() => (window as unknown as { __held: boolean }).__held)) === true,
      20_000,
      "Bob's first remote offer held (his join answered)",
    );
    await alice.page.getByTestId('share-screen').click();
    await alice.page.getByTestId('toggle-mic').click();
    await waitProducer(alice, 'screen', null, 10_000);
    await waitProducer(alice, 'mic', true, 10_000);
    await bob.page.waitForTimeout(500); // The notifications reach Bob's page meanwhile.
    await bob.page.evaluate(() => (window as unknown as { __release(): void }).__release());

    await bob.waitInRoom();
    assert.equal((await bob.waitVideosDecoding(1, 5)).length, 1, "Bob decodes Alice's camera");
    await bob.page.waitForTimeout(500);
    const tracks = await tracksOf(bob);
    assert.ok(
      !tracks.some((t) => t.source === 'screen'),
      `no screen track of Alice's: ${JSON.stringify(tracks)}`,
    );
    assert.equal(
      await bob.page.locator('[data-testid="tile"][data-source="screen"]').count(),
      0,
      'no screen tile',
    );
    const mic = tracks.find((t) => t.kind === 'audio');
    assert.ok(mic, `Bob has Alice's mic: ${JSON.stringify(tracks)}`);
    assert.equal(mic.producerPaused, true, "Bob knows Alice's mic is paused");
  });
});
