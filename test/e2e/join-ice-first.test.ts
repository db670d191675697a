/**
 * Browser e2e (issue 12): the order of a one-reply join's steps in Bob's page once the join
 * is answered. Chromium gathers a new RTCPeerConnection's ICE candidates only after the
 * page's main thread has had a few turns (client/src/lib/media/ice.ts, untilChecking), so
 * the client builds the receive PeerConnection, lets its ICE checks start, and only then
 * builds the send PeerConnection and renders the room view (a cap of 150 ms bounds that
 * wait). And Bob publishes his own camera only once Alice's first frame is on his screen
 * (MediaClient.remoteMediaShown, capped at 1 s): producing's SDP work and encoder start no
 * longer fall in the window where that frame is decoded. Two Chromium pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, type Participant } from '../helpers/browser.ts';

const ROOM = 'ICE first';
const HOST = '127.0.14.5';
/** MediaClient's caps on the two waits (a slower ICE start, or no frame, lets them pass). */
const CHECKING_CAP_MS = 150;
const FRAME_CAP_MS = 1000;

/**
 * In page time (performance.now()): every RTCPeerConnection created; for the receive one
 * (the first given a remote offer) its answer applied and its ICE checks started; the room
 * view shown; the first remote video frame presented; the first media.produce sent.
 */
const RECORD_ORDER = `(() => {
  const log = { pcs: [], recv: null, recvSld: null, recvChecking: null, recvConnected: null,
    view: null, frame: null, produce: null };
  window.__order = log;
  const now = () => performance.now();
  const NativePc = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePc {
    constructor(...a) {
      super(...a);
      log.pcs.push(now());
      this.__createdAt = now();
    }
  };
  const srd = NativePc.prototype.setRemoteDescription;
  NativePc.prototype.setRemoteDescription = function (d, ...rest) {
    if (d && d.type === 'offer' && log.recv === null) {
      log.recv = this.__createdAt;
      const pc = this;
      const checking = () => {
        if (log.recvChecking === null && pc.connectionState !== 'new') log.recvChecking = now();
        if (log.recvConnected === null && pc.connectionState === 'connected') log.recvConnected = now();
      };
      pc.addEventListener('connectionstatechange', checking);
      pc.addEventListener('iceconnectionstatechange', () => {
        if (log.recvChecking === null && pc.iceConnectionState !== 'new') log.recvChecking = now();
      });
      const sld = pc.setLocalDescription.bind(pc);
      pc.setLocalDescription = (...b) => sld(...b).then((r) => { if (log.recvSld === null) log.recvSld = now(); return r; });
    }
    return srd.call(this, d, ...rest);
  };
  const NativeWs = window.WebSocket;
  window.WebSocket = class extends NativeWs {
    constructor(...a) {
      super(...a);
      const send = this.send.bind(this);
      this.send = (text) => {
        try {
          const m = JSON.parse(text);
          if (m.request && m.method === 'media.produce' && log.produce === null) log.produce = now();
        } catch {}
        return send(text);
      };
    }
  };
  new MutationObserver(() => {
    if (log.view === null && document.querySelector('[data-testid="leave-room"]')) log.view = now();
    for (const v of document.querySelectorAll('video[data-testid="remote-video"]')) {
      if (v.__watched) continue;
      v.__watched = true;
      v.requestVideoFrameCallback(() => { if (log.frame === null) log.frame = now(); });
    }
  }).observe(document, { subtree: true, childList: true });
})();`;

interface OrderLog {
  pcs: number[];
  recv: number | null;
  recvSld: number | null;
  recvChecking: number | null;
  recvConnected: number | null;
  view: number | null;
  frame: number | null;
  produce: number | null;
}

const orderOf = (p: Participant): Promise<OrderLog> =>
  p.page.evaluate(() => (window as unknown as { __order: OrderLog }).__order);

describe('a one-reply join starts ICE before rendering and publishes after the first frame', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Participant;
  let bob: Participant;

  before(async () => {
    browser = await launchBrowser();
    server = await startTestServer({ server: { host: HOST }, media: { listenIp: HOST } });
    alice = await newParticipant(browser, server.url, 'Alice');
    bob = await newParticipant(browser, server.url, 'Bob');
    await bob.context.addInitScript(RECORD_ORDER);
    await alice.createRoom({ name: ROOM });
    await bob.openLobby();
    // Alice's camera is on before Bob joins: his join answer brings its consumer.
    await alice.page.getByTestId('local-video').waitFor({ timeout: 20_000 });
    await bob.joinRoom(ROOM);
    await bob.waitInRoom();
    assert.equal((await bob.waitVideosDecoding(1, 5)).length, 1);
    await bob.page.waitForFunction(
      () => (window as unknown as { __order: OrderLog }).__order.produce !== null,
      undefined,
      { timeout: 20_000 },
    );
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the send PeerConnection and the room view come after the receive side’s ICE start', async () => {
    const o = await orderOf(bob);
    assert.ok(
      o.recv !== null && o.recvSld !== null,
      `a receive PeerConnection: ${JSON.stringify(o)}`,
    );
    const send = o.pcs.find((t) => t > o.recv!);
    assert.ok(send !== undefined, `a send PeerConnection after it: ${JSON.stringify(o)}`);
    assert.ok(o.view !== null, 'the room view was shown');
    // Either ICE checks had started, or the cap ran out (a slow ICE start is let go).
    const released = Math.min(o.recvChecking ?? Infinity, o.recvSld + CHECKING_CAP_MS);
    assert.ok(
      send >= released,
      `send PC at ${send}, receive ICE start ${o.recvChecking} (SLD ${o.recvSld})`,
    );
    assert.ok(o.view >= released, `room view at ${o.view}, receive ICE start ${o.recvChecking}`);
  });

  test('Bob publishes his camera after Alice’s first frame is shown', async () => {
    const o = await orderOf(bob);
    assert.ok(o.frame !== null && o.produce !== null, JSON.stringify(o));
    // The frame was shown first, or the cap (it starts after the receive side's SDP) ran out.
    const released = Math.min(o.frame, o.recvSld! + FRAME_CAP_MS);
    assert.ok(
      o.produce >= released,
      `media.produce at ${o.produce}, first remote frame at ${o.frame} (connected ${o.recvConnected})`,
    );
  });
});
