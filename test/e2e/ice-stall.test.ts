/**
 * Browser e2e: a transport whose ICE checks never begin is brought back (client/src/lib/
 * media/ice.ts). A loaded clean-clone run once left a link page's recv PeerConnection in
 * 'new' after its answer for good — no checks, no video — while its later send PC
 * connected. Here the first recv PeerConnection's remote offers lose their ICE candidates,
 * which leaves it in 'new' the same way (the server is ICE-lite: it never checks first).
 * Bob's candidates come back with the ICE restart's new credentials: the restart heals it.
 * Carol's never come back on that PeerConnection: the media is rebuilt on new ones.
 * Dave's first recv PeerConnection gathers no local candidate at all (the CI stall's
 * signature): it is rebuilt at once, without an ICE restart first.
 * At most three Chromium pages at a time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
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
 * them (`never-heals`). Or (`no-local-candidate`) it keeps its offers but gathers nothing:
 * relay-only with no TURN server. `window.__stall` counts what was withheld, and the
 * local candidates the victim gathered (none where the test did not stage it: Chromium's
 * own stall, which the watch answers with a rebuild at once).
 */
type StallMode = 'restart-heals' | 'never-heals' | 'no-local-candidate';
const withholdCandidates = (mode: StallMode): string => `(() => {
  const log = { stripped: 0, offers: 0, ufrags: [], localCandidates: 0 };
  window.__stall = log;
  const Native = window.RTCPeerConnection;
  const srd = Native.prototype.setRemoteDescription;
  let victim = null;
  Native.prototype.setRemoteDescription = function (d, ...rest) {
    if (d && d.type === 'offer' && (victim === null || victim === this)) {
      if (victim === null) {
        this.addEventListener('icecandidate', (e) => {
          if (e.candidate && e.candidate.candidate) log.localCandidates++;
        });
      }
      victim = this;
      log.offers++;
      const ufrag = (/a=ice-ufrag:(\\S+)/.exec(d.sdp) || [])[1];
      if (!log.ufrags.includes(ufrag)) log.ufrags.push(ufrag);
      if (${JSON.stringify(mode)} === 'no-local-candidate') {
        if (log.offers === 1) {
          this.setConfiguration({ ...this.getConfiguration(), iceTransportPolicy: 'relay', iceServers: [] });
        }
      } else if (${JSON.stringify(mode)} === 'never-heals' || ufrag === log.ufrags[0]) {
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
  localCandidates: number;
}

/**
 * Chromium's own stall (the victim gathered no local candidate although the test did not
 * ask for that) took the PeerConnection before the staged one could: the watch must then
 * have rebuilt the media at once, without an ICE restart. Says so, and checks that.
 */
async function chromiumStalledFirst(t: TestContext, p: Participant, stall: StallLog) {
  if (stall.localCandidates > 0) return false;
  t.diagnostic(`Chromium's own stall (no local candidate) came first: ${JSON.stringify(stall)}`);
  assert.equal(stall.ufrags.length, 1, `no ICE restart first: ${JSON.stringify(stall)}`);
  assert.equal(await p.page.evaluate(() => window.__tutti?.restarts()), 1, 'one rebuild');
  return true;
}

const stallOf = (p: Participant): Promise<StallLog> =>
  p.page.evaluate(() => (window as unknown as { __stall: StallLog }).__stall);

describe('a transport whose ICE never starts', () => {
  let pair: BrowserPair;
  let server: TestServer;
  let alice: Participant;
  let bob: Participant;
  let carol: Participant | undefined;
  let dave: Participant | undefined;
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
    await dave?.close();
    await pair?.close();
  });

  test('is restarted (ICE restart) and its media flows', async (t) => {
    await bob.page.goto(`${server.url}/#/room/${encodeURIComponent(roomId)}`);
    await bob.waitInRoom();
    assert.equal((await bob.waitVideosDecoding(1, 10)).length, 1, "Bob decodes Alice's camera");
    const stall = await stallOf(bob);
    assert.ok(stall.stripped >= 1, `candidates withheld: ${JSON.stringify(stall)}`);
    if (!(await chromiumStalledFirst(t, bob, stall))) {
      assert.ok(stall.ufrags.length >= 2, `an ICE restart's new ufrag: ${JSON.stringify(stall)}`);
      assert.equal(await bob.page.evaluate(() => window.__tutti?.restarts()), 0, 'no rebuild');
    }
    assert.equal((await alice.waitVideosDecoding(1, 10)).length, 1, "Alice decodes Bob's camera");
  });

  test('is rebuilt when the ICE restart does not help, and its media flows', async (t) => {
    carol = await newParticipant(pair.browser, server.url, 'Carol');
    await storeNickname(carol, 'Carol');
    await carol.context.addInitScript(withholdCandidates('never-heals'));
    await carol.page.goto(`${server.url}/#/room/${encodeURIComponent(roomId)}`);
    await carol.waitInRoom();
    assert.equal((await carol.waitVideosDecoding(2, 10)).length, 2, 'Carol decodes both cameras');
    const stall = await stallOf(carol);
    if (!(await chromiumStalledFirst(t, carol, stall))) {
      assert.ok(stall.ufrags.length >= 2, `the ICE restart came first: ${JSON.stringify(stall)}`);
      assert.equal(await carol.page.evaluate(() => window.__tutti?.restarts()), 1, 'one rebuild');
    }
    await alice.waitParticipantCount(3);
    assert.equal((await alice.waitVideosDecoding(2, 10)).length, 2, "Alice decodes Carol's too");
  });

  test('is rebuilt at once, without an ICE restart, when it has no local candidate', async () => {
    await carol?.close();
    carol = undefined;
    await alice.waitParticipantCount(2);
    dave = await newParticipant(pair.browser, server.url, 'Dave');
    await storeNickname(dave, 'Dave');
    await dave.context.addInitScript(withholdCandidates('no-local-candidate'));
    await dave.page.goto(`${server.url}/#/room/${encodeURIComponent(roomId)}`);
    await dave.waitInRoom();
    assert.equal((await dave.waitVideosDecoding(2, 10)).length, 2, 'Dave decodes both cameras');
    const stall = await stallOf(dave);
    assert.ok(stall.offers >= 1, `the first recv PC was made relay-only: ${JSON.stringify(stall)}`);
    assert.equal(stall.localCandidates, 0, `it gathered nothing: ${JSON.stringify(stall)}`);
    assert.equal(stall.ufrags.length, 1, `no ICE restart came first: ${JSON.stringify(stall)}`);
    assert.equal(await dave.page.evaluate(() => window.__tutti?.restarts()), 1, 'one rebuild');
    await alice.waitParticipantCount(3);
    assert.equal((await alice.waitVideosDecoding(2, 10)).length, 2, "Alice decodes Dave's too");
  });
});
