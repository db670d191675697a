/**
 * Browser e2e (issue 12): a shared link's page makes its two capability-probe offers in
 * client/src/boot.ts, before the app's chunks run, and the room chunk's device reads them
 * with mediasoup-client's own Chrome111 handler instead of probing again. The capabilities
 * it then sends in room.join must be exactly those a page that probed the handler's way
 * sends (Bob joining the same room from the lobby, where boot.ts starts no probe), and the
 * link's page must still receive Alice's camera. Two Chromium pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Participant } from '../helpers/browser.ts';
import {
  roomIdOf,
  startBrowserPair,
  storeNickname,
  type BrowserPair,
} from '../helpers/browserPair.ts';

const ROOM = 'Probe at boot';
const HOST = '127.0.17.21';

/**
 * Per page load: every RTCPeerConnection made before room.join left (the probes) with the
 * script that made it (the first /assets/ URL on its stack), and room.join's capabilities.
 */
const RECORD_PROBES = `(() => {
  const log = { probes: [], joinCaps: null };
  window.__probes = log;
  const NativePc = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePc {
    constructor(...a) {
      super(...a);
      if (log.joinCaps !== null) return;
      const stack = new Error().stack || '';
      log.probes.push((stack.match(/\\/assets\\/[^\\s:)]+/) || [''])[0]);
    }
  };
  const NativeWs = window.WebSocket;
  window.WebSocket = class extends NativeWs {
    constructor(...a) {
      super(...a);
      const send = this.send.bind(this);
      this.send = (text) => {
        try {
          const m = JSON.parse(text);
          if (m.request && m.method === 'room.join') log.joinCaps = m.data?.media?.rtpCapabilities ?? 'none';
        } catch {}
        return send(text);
      };
    }
  };
})();`;

interface ProbeLog {
  probes: string[];
  joinCaps: unknown;
}

const probesOf = (p: Participant): Promise<ProbeLog> =>
  p.page.evaluate(() => (window as unknown as { __probes: ProbeLog }).__probes);

describe('the capability probes made at boot by a shared link', () => {
  let pair: BrowserPair;
  let alice: Participant;
  let bob: Participant;
  let roomId = '';
  let linkCaps: unknown;

  before(async () => {
    pair = await startBrowserPair(HOST);
    ({ alice, bob } = pair);
    await storeNickname(bob, 'Bob');
    await bob.context.addInitScript(RECORD_PROBES);
    await alice.createRoom({ name: ROOM });
    roomId = roomIdOf(alice);
  });

  after(async () => {
    await pair?.close();
  });

  test('a link page probes once, in the boot script, and still receives', async () => {
    await bob.page.goto(`${pair.server.url}/#/room/${encodeURIComponent(roomId)}`);
    await bob.waitInRoom();
    assert.equal((await bob.waitVideosDecoding(1, 10)).length, 1, "Bob decodes Alice's camera");
    const log = await probesOf(bob);
    assert.equal(log.probes.length, 2, `two probes before the join: ${log.probes.join(', ')}`);
    for (const script of log.probes)
      assert.match(script, /^\/assets\/boot-[\w-]+\.js$/, 'made by the boot script');
    assert.equal(typeof log.joinCaps, 'object', 'room.join carried the capabilities');
    linkCaps = log.joinCaps;
    await alice.waitParticipantCount(2);
  });

  test("a lobby join (the handler's own probe) sends the very same capabilities", async () => {
    assert.ok(linkCaps, 'the link test ran first');
    await bob.page.goto('about:blank');
    await bob.joinRoom(ROOM); // A page load of the lobby: boot.ts starts no probe there.
    await bob.waitInRoom();
    await alice.waitParticipantCount(2);
    const log = await probesOf(bob);
    assert.ok(log.probes.length >= 2, `the handler probed: ${log.probes.join(', ')}`);
    for (const script of log.probes)
      assert.doesNotMatch(script, /\/boot-/, 'not from the boot script this time');
    assert.deepEqual(log.joinCaps, linkCaps);
  });
});
