/**
 * Browser e2e under real network faults. The receiver's Chromium runs in its own network
 * namespace, joined to the root namespace by a veth pair (198.18.0.0/15); the Tutti server
 * listens (HTTP and media) on the root-side veth address, so everything the receiver gets
 * crosses that veth. The sender is an ordinary page with a fake camera (simulcast). A
 * signaling bot in the room watches the notifications the others would see.
 * - link down 8 s, then up: the receiver's video decodes again on the same transports (ICE
 *   consent resumes), no rejoin, no leave/join seen by others;
 * - link down 14 s: the client's ICE restart fires during the outage and lands after it,
 *   without breaking the video or the membership;
 * - link down 13 s with chat both ways: the client's heartbeat finds the dead socket, the
 *   new one resumes the membership (docs/reconnect.md), chat typed during the outage leaves
 *   the outbox once and what others sent meanwhile shows once.
 * The 300 kbit/s tbf cap on the receiver's downlink has its own file (netcap.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { connectSignaling, type SignalingClient } from '../helpers/signalingClient.ts';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';
import { createNetNamespace, netnsAvailable, type NetNamespace } from '../helpers/netns.ts';
import { recordIceUfrags, video } from '../helpers/videoWatch.ts';

const ROOM = 'Faulty';

interface ChatNote {
  message: { text: string };
}

describe(
  'real network faults (receiver in a network namespace)',
  { skip: netnsAvailable() ? false : 'needs root with ip netns and tc' },
  () => {
    let ns: NetNamespace;
    let server: TestServer;
    let nsBrowser: Browser;
    let rootBrowser: Browser;
    let watcher: SignalingClient;
    let sender: Participant;
    let receiver: Participant;
    let receiverId: string;

    before(async () => {
      ns = createNetNamespace();
      server = await startTestServer({
        server: { host: ns.hostIp },
        media: { listenIp: ns.hostIp, announcedAddress: ns.hostIp },
      });
      // getUserMedia and friends want a secure context; the origin is a veth address.
      const extraArgs = [`--unsafely-treat-insecure-origin-as-secure=${server.url}`];
      nsBrowser = await launchBrowser({ executablePath: ns.chromiumWrapper, extraArgs });
      rootBrowser = await launchBrowser({ extraArgs });

      watcher = await connectSignaling(server.wsUrl);
      const { room } = await watcher.request('room.create', { name: ROOM });
      await watcher.request('room.join', { roomId: room.id, nickname: 'watcher' });

      // 540p: at 360p Chromium sends fewer, smaller layers and the top one fits under 300 kbit/s.
      sender = await newParticipant(rootBrowser, server.url, 'sender', { cameraHeight: 540 });
      receiver = await newParticipant(nsBrowser, server.url, 'receiver', { media: false });
      await recordIceUfrags(receiver);
      await sender.joinRoom(ROOM);
      await sender.waitInRoom();
      await receiver.joinRoom(ROOM);
      await receiver.waitInRoom();
      await receiver.waitVideosDecoding(1);
      receiverId = await receiver.page.evaluate(() => window.__tutti?.selfId() ?? '');
      assert.ok(receiverId);
    });

    after(async () => {
      // Each step on its own: a failed one must not leave the namespace behind.
      await receiver?.close().catch(() => undefined);
      await sender?.close().catch(() => undefined);
      await nsBrowser?.close().catch(() => undefined);
      await rootBrowser?.close().catch(() => undefined);
      watcher?.close();
      await server?.stop().catch(() => undefined);
      ns?.destroy();
    });

    /** Takes the link down for downMs, brings it up, and reports how the receiver got back. */
    async function outage(downMs: number) {
      const before = await mediaState();
      const seenBefore = watcher.notifications.length;
      ns.setLink('down');
      await sleep(downMs);
      ns.setLink('up');
      const upAt = Date.now();
      const start = await video(receiver);
      await waitFor(
        async () => (await video(receiver)).frames - start.frames >= 10,
        20_000,
        'the receiver decoding again after the link came back',
      );
      const recoveredMs = Date.now() - upAt;
      const after = await mediaState();
      const notices = watcher.notifications
        .slice(seenBefore)
        .filter((n) => n.method === 'room.peerLeft' || n.method === 'room.peerJoined')
        .map((n) => n.method);
      console.log(
        `[netfault] link down ${downMs} ms: decoding again ${recoveredMs} ms after up; ICE ` +
          `restarts ${before.iceRestarts} → ${after.iceRestarts}; peer connections ` +
          `${before.pcs} → ${after.pcs}; leave/join notices: ${notices.join(', ') || 'none'}`,
      );
      return { before, after, notices, recoveredMs, upAt };
    }

    async function mediaState() {
      return receiver.page.evaluate(() => ({
        iceRestarts: (window.__ufrags ?? []).reduce((n, s) => n + Math.max(0, s.size - 1), 0),
        pcs: (window.__ufrags ?? []).length,
        restarts: window.__tutti?.restarts() ?? -1,
        selfId: window.__tutti?.selfId() ?? '',
      }));
    }

    test('link down 8 s, then up: media comes back on the same transports, no rejoin', async () => {
      const { before, after, notices, recoveredMs } = await outage(8000);
      // Measured here: Chromium calls the transport 'disconnected' ~5-6 s into the outage and
      // ICE consent resumes within ~100 ms of the link coming back, before the client's 5-s
      // restart timer fires; the socket (TCP) rides out 8 s. So no ICE restart is needed.
      assert.ok(recoveredMs < 10_000, `decoding again ${recoveredMs} ms after the link came up`);
      assert.equal(after.pcs, before.pcs, 'no new peer connections (media not rebuilt)');
      assert.equal(after.restarts, before.restarts, 'no media.restart');
      assert.equal(after.selfId, receiverId, 'same membership');
      assert.deepEqual(notices, [], 'others saw no leave/join');
    });

    test('link down 14 s, then up: the client restarts ICE and keeps decoding', async () => {
      // Long enough for the client's 5-s 'disconnected' timer to fire during the outage. Its
      // media.restartIce request waits in TCP until the link is back, so consent usually
      // resumes first and the restart lands a few seconds later: it must not break the video.
      const { before, after, notices, recoveredMs, upAt } = await outage(14_000);
      assert.ok(recoveredMs < 15_000, `decoding again ${recoveredMs} ms after the link came up`);
      await waitFor(
        async () => (await mediaState()).iceRestarts > before.iceRestarts,
        15_000,
        'the receive transport restarting ICE',
      );
      console.log(`[netfault] ICE restart landed ${Date.now() - upAt} ms after the link came up`);
      const start = await video(receiver);
      await waitFor(
        async () => (await video(receiver)).frames - start.frames >= 10,
        10_000,
        'the receiver decoding after the ICE restart',
      );
      const now = await mediaState();
      assert.equal(now.pcs, before.pcs, 'no new peer connections (media not rebuilt)');
      assert.equal(now.restarts, before.restarts, 'no media.restart');
      assert.equal(after.selfId, receiverId, 'same membership');
      assert.deepEqual(notices, [], 'others saw no leave/join');
    });

    test('link down 13 s: the WebSocket resumes the same membership; chat during it arrives once', async () => {
      // Long enough for the client's heartbeat (a ping every 4 s, 8 s to answer) to find the
      // dead socket while the link is down: it reconnects once the link is back and resumes
      // its membership with the join's token (the server still holds the old, half-open
      // socket: the resume takes it over). Chat typed meanwhile waits in the outbox.
      const chatsAt = (texts: string[]) =>
        texts.map(
          (t) =>
            watcher.notifications.filter(
              (n) => n.method === 'chat.message' && (n.data as ChatNote).message.text === t,
            ).length,
        );
      const onPage = async (text: string) =>
        receiver.page.getByTestId('chat-message').filter({ hasText: text }).count();
      const before = await mediaState();
      const seenBefore = watcher.notifications.length;
      const reconnectedBefore = await receiver.page
        .getByTestId('system-message')
        .filter({ hasText: 'Reconnected' })
        .count();
      ns.setLink('down');
      await sleep(1000);
      const typed = 'typed while the link was down';
      await receiver.page.getByTestId('chat-input').fill(typed);
      await receiver.page.getByTestId('chat-send').click();
      const fromOthers = 'sent by the watcher during the outage';
      await watcher.request('chat.send', { text: fromOthers });
      await sleep(12_000);
      // Nothing typed is lost: it sits in the outbox, shown as pending, the input is free.
      assert.equal(
        await receiver.page.getByTestId('chat-pending').count(),
        1,
        'one pending message',
      );
      ns.setLink('up');
      const upAt = Date.now();
      await waitFor(async () => chatsAt([typed])[0]! >= 1, 20_000, 'the typed message arriving');
      const arrivedMs = Date.now() - upAt;
      await waitFor(async () => (await onPage(fromOthers)) >= 1, 10_000, "the watcher's message");
      await sleep(3000); // a duplicate would have arrived by now
      const resumes = await receiver.page
        .getByTestId('system-message')
        .filter({ hasText: 'Reconnected' })
        .count();
      const after = await mediaState();
      const notices = watcher.notifications
        .slice(seenBefore)
        .filter((n) => n.method === 'room.peerLeft' || n.method === 'room.peerJoined')
        .map((n) => n.method);
      console.log(
        `[netfault] link down 13 s: typed message at the others ${arrivedMs} ms after up; ` +
          `reconnects ${resumes - reconnectedBefore}; leave/join notices: ${notices.join(', ') || 'none'}`,
      );
      assert.ok(resumes > reconnectedBefore, 'the page reconnected its signaling socket');
      assert.equal(after.selfId, receiverId, 'same membership (resumed, not rejoined)');
      assert.deepEqual(notices, [], 'others saw no leave/join');
      assert.deepEqual(chatsAt([typed]), [1], 'the typed message reached the others exactly once');
      assert.equal(await onPage(typed), 1, 'and shows once on the page');
      assert.equal(await onPage(fromOthers), 1, "the watcher's message shows exactly once");
      assert.equal(await receiver.page.getByTestId('chat-pending').count(), 0, 'outbox empty');
      assert.equal(after.pcs, before.pcs, 'no new peer connections (media not rebuilt)');
      assert.equal(after.restarts, before.restarts, 'no media.restart');
      const start = await video(receiver);
      await waitFor(
        async () => (await video(receiver)).frames - start.frames >= 10,
        20_000,
        'the receiver decoding after the resume',
      );
    });
  },
);
