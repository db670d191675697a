/**
 * Browser e2e (issue 12): the one-reply join with the DTLS fingerprint sent ahead. Bob's
 * page made its RTCCertificate before joining and sent its fingerprint in room.join; the
 * server connected both of his transports, so his page never sends
 * media.connectTransport (nor media.createTransport or media.ready), and still decodes
 * Alice's camera while Alice decodes his (his send transport was connected the same way).
 * Alice takes the old sequence (`tutti.joinPath` = classic): it still connects with
 * media.connectTransport. Two Chromium pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Participant } from '../helpers/browser.ts';
import { startBrowserPair, type BrowserPair } from '../helpers/browserPair.ts';

const ROOM = 'Fingerprint ahead';
const HOST = '127.0.16.3';

/** Records, in the page, the protoo requests it sends and the room.join answer's media. */
const RECORD_SIGNALING = `(() => {
  const log = { sent: [], join: null, joinMedia: null };
  window.__signaling = log;
  const NativeWs = window.WebSocket;
  window.WebSocket = class extends NativeWs {
    constructor(...a) {
      super(...a);
      const joins = new Set();
      const send = this.send.bind(this);
      this.send = (text) => {
        try {
          const m = JSON.parse(text);
          if (m.request) {
            log.sent.push(m.method);
            if (m.method === 'room.join') { joins.add(m.id); log.join = m.data; }
          }
        } catch {}
        return send(text);
      };
      this.addEventListener('message', (ev) => {
        try {
          const m = JSON.parse(ev.data);
          if (m.response && joins.has(m.id)) log.joinMedia = m.data?.media ?? null;
        } catch {}
      });
    }
  };
})();`;

interface SignalingLog {
  sent: string[];
  join: { media?: { dtlsParameters?: { role: string; fingerprints: unknown[] } } } | null;
  joinMedia: { connected?: string[]; consumers?: unknown[] } | null;
}

const signalingOf = (p: Participant): Promise<SignalingLog> =>
  p.page.evaluate(() => (window as unknown as { __signaling: SignalingLog }).__signaling);

describe('the one-reply join with the DTLS fingerprint sent ahead', () => {
  let pair: BrowserPair;
  let alice: Participant;
  let bob: Participant;

  before(async () => {
    pair = await startBrowserPair(HOST);
    ({ alice, bob } = pair);
    await alice.context.addInitScript(() => {
      try {
        localStorage.setItem('tutti.joinPath', 'classic');
      } catch {
        // about:blank has no storage
      }
    });
    for (const p of [alice, bob]) await p.context.addInitScript(RECORD_SIGNALING);
    await alice.createRoom({ name: ROOM });
    await bob.joinRoom(ROOM);
    await bob.waitInRoom();
    for (const p of [alice, bob]) await p.waitParticipantCount(2);
  });

  after(async () => {
    await pair?.close();
  });

  test('a short join sends no media.connectTransport and decodes remote frames both ways', async () => {
    // Bob decodes Alice's camera; Alice decodes Bob's (sent on his pre-connected transport).
    assert.equal((await bob.waitVideosDecoding(1, 15)).length, 1);
    assert.equal((await alice.waitVideosDecoding(1, 15)).length, 1);
    await bob.waitAudioFlowing(2000);

    const b = await signalingOf(bob);
    const dtls = b.join?.media?.dtlsParameters;
    assert.equal(dtls?.role, 'client', 'room.join carried the DTLS parameters');
    assert.ok(dtls && dtls.fingerprints.length >= 1, 'and a fingerprint');
    assert.deepEqual(b.joinMedia?.connected, ['recv', 'send'], 'the server connected both');
    assert.ok((b.joinMedia?.consumers?.length ?? 0) >= 1, "Alice's producers in the answer");
    for (const method of ['media.connectTransport', 'media.createTransport', 'media.ready']) {
      assert.ok(!b.sent.includes(method), `Bob sent no ${method}: ${b.sent.join(', ')}`);
    }
    assert.ok(b.sent.includes('media.produce'), 'Bob produces on the pre-connected transport');

    // The old sequence still connects its transports itself.
    const a = await signalingOf(alice);
    assert.equal(a.join?.media, undefined, 'Alice joined the classic way');
    assert.ok(a.sent.includes('media.connectTransport'), `Alice: ${a.sent.join(', ')}`);
  });
});
