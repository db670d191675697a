/**
 * Browser e2e: a transport whose ICE checks never begin is brought back (client/src/lib/
 * media/ice.ts). A loaded clean-clone run once left a link page's recv PeerConnection in
 * 'new' after its answer for good — no checks, no video — while its later send PC
 * connected. Here the first recv PeerConnection's remote offers lose their ICE candidates,
 * which leaves it in 'new' the same way (the server is ICE-lite: it never checks first).
 * Bob's candidates come back with the ICE restart's new credentials: the restart heals it.
 * Carol's never come back on that PeerConnection: the media is rebuilt on new ones.
 * Three Chromium pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newParticipant, type Participant } from '../helpers/browser.ts';
import type { TestServer } from '../helpers/startServer.ts';
import {
  roomIdOf,
  startBrowserPair,
  waitCameraProduced,
  storeNickname,
  type BrowserPair,
} from '../helpers/browserPair.ts';

const ROOM = 'ICE stall';
const HOST = '127.0.16.7';

/**
 * The page's first PeerConnection given a remote offer (the recv transport's) gets its
 * offers without candidates: those with the first ICE ufrag (`restart-heals`), or all of
 * them (`never-heals`). `window.__stall` counts what was withheld.
 */
const withholdCandidates = (mode: 'restart-heals' | 'never-heals'): string => `(() => {
  const log = { stripped: 0, offers: 0, ufrags: [] };
  window.__stall = log;
  const Native = window.RTCPeerConnection;
  const srd = Native.prototype.setRemoteDescription;
  let victim = null;
  Native.prototype.setRemoteDescription = function (d, ...rest) {
    if (d && d.type === 'offer' && (victim === null || victim === this)) {
      victim = this;
      log.offers++;
      const ufrag = (/a=ice-ufrag:(\\S+)/.exec(d.sdp) || [])[1];
      if (!log.ufrags.includes(ufrag)) log.ufrags.push(ufrag);
      if (${JSON.stringify(mode)} === 'never-heals' || ufrag === log.ufrags[0]) {
        log.stripped++;
        const sdp = d.sdp.split('\\r\\n')
          .filter((l) => !l.startsWith('a=candidate') && l !== 'a=end-of-candidates')
          .join('\\r\\n');
        d = { type: 'offer', sdp };
      }
    }
    return srd.call(this, d, ...rest);
  };
})();`;

interface StallLog {
  stripped: number;
  offers: number;
  ufrags: string[];
}

const stallOf = (p: Participant): Promise<StallLog> =>
  p.page.evaluate(() => (window as unknown as { __stall: StallLog }).__stall);

describe('a transport whose ICE never starts', () => {
  let pair: BrowserPair;
  let server: TestServer;
  let alice: Participant;
  let bob: Participant;
  let carol: Participant | undefined;
  let roomId = '';

  before(async () => {
    pair = await startBrowserPair(HOST);
    ({ server, alice, bob } = pair);
    await storeNickname(bob, 'Bob');
    await bob.context.addInitScript(withholdCandidates('restart-heals'));
    await alice.createRoom({ name: ROOM });
    roomId = roomIdOf(alice);
    await waitCameraProduced(alice);
  });

  after(async () => {
    await carol?.close();
    await pair?.close();
  });

  test('is restarted (ICE restart) and its media flows', async () => {
    await bob.page.goto(`${server.url}/#/room/${encodeURIComponent(roomId)}`);
    await bob.waitInRoom();
    assert.equal((await bob.waitVideosDecoding(1, 10)).length, 1, "Bob decodes Alice's camera");
    const stall = await stallOf(bob);
    assert.ok(stall.stripped >= 1, `candidates withheld: ${JSON.stringify(stall)}`);
    assert.ok(stall.ufrags.length >= 2, `an ICE restart's new ufrag: ${JSON.stringify(stall)}`);
    assert.equal(await bob.page.evaluate(() => window.__tutti?.restarts()), 0, 'no rebuild');
    assert.equal((await alice.waitVideosDecoding(1, 10)).length, 1, "Alice decodes Bob's camera");
  });

  test('is rebuilt when the ICE restart does not help, and its media flows', async () => {
    carol = await newParticipant(pair.browser, server.url, 'Carol');
    await storeNickname(carol, 'Carol');
    await carol.context.addInitScript(withholdCandidates('never-heals'));
    await carol.page.goto(`${server.url}/#/room/${encodeURIComponent(roomId)}`);
    await carol.waitInRoom();
    assert.equal((await carol.waitVideosDecoding(2, 10)).length, 2, 'Carol decodes both cameras');
    const stall = await stallOf(carol);
    assert.ok(stall.ufrags.length >= 2, `the ICE restart came first: ${JSON.stringify(stall)}`);
    assert.equal(await carol.page.evaluate(() => window.__tutti?.restarts()), 1, 'one rebuild');
    await alice.waitParticipantCount(3);
    assert.equal((await alice.waitVideosDecoding(2, 10)).length, 2, "Alice decodes Carol's too");
  });
});
