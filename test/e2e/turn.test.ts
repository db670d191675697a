/**
 * Browser e2e: media through TURN. Debian's coturn runs on 127.0.0.1 with TURN REST auth
 * (use-auth-secret); the server hands out HMAC credentials in the join answer and tells the
 * clients `iceTransportPolicy: 'relay'`, so the only path to the SFU is a coturn relay.
 * Two Chromium pages send and receive; their selected ICE pairs are relayed; coturn logged
 * the allocations of the credentials Tutti minted. With a wrong secret nothing connects.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { coturnInstalled, startCoturn, type Coturn } from '../helpers/coturn.ts';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, type Participant } from '../helpers/browser.ts';

const SECRET = 'tutti-turn-test-secret';
const ROOM = 'Relayed';

interface PcReport {
  connectionState: RTCPeerConnectionState;
  policy: RTCIceTransportPolicy | undefined;
  turnUsernames: string[];
  /** candidateType of the selected pair's local candidate, if there is a selected pair. */
  selectedLocal: string | null;
  /** Types of every local candidate gathered. */
  localTypes: string[];
}

declare global {
  interface Window {
    __pcs?: RTCPeerConnection[];
  }
}

/** Keeps every RTCPeerConnection the page makes (mediasoup-client's transports among them). */
async function recordPeerConnections(p: Participant): Promise<void> {
  await p.context.addInitScript(() => {
    const pcs: RTCPeerConnection[] = [];
    window.__pcs = pcs;
    window.RTCPeerConnection = new Proxy(window.RTCPeerConnection, {
      construct(target, args: ConstructorParameters<typeof RTCPeerConnection>) {
        const pc = new target(...args);
        pcs.push(pc);
        return pc;
      },
    });
  });
}

/** What each still-open RTCPeerConnection of the page uses (Device.load()'s probes are closed). */
function peerConnections(p: Participant): Promise<PcReport[]> {
  return p.page.evaluate(async () => {
    const open = (window.__pcs ?? []).filter((pc) => pc.signalingState !== 'closed');
    return Promise.all(
      open.map(async (pc) => {
        const byId = new Map<string, Record<string, unknown>>();
        (await pc.getStats()).forEach((s: Record<string, unknown>) =>
          byId.set(s['id'] as string, s),
        );
        const stats = [...byId.values()];
        const transport = stats.find((s) => s['type'] === 'transport');
        const pair = byId.get(String(transport?.['selectedCandidatePairId'] ?? ''));
        const local = byId.get(String(pair?.['localCandidateId'] ?? ''));
        const config = pc.getConfiguration();
        return {
          connectionState: pc.connectionState,
          policy: config.iceTransportPolicy,
          turnUsernames: (config.iceServers ?? []).map((s) => s.username ?? ''),
          selectedLocal: (local?.['candidateType'] as string | undefined) ?? null,
          localTypes: stats
            .filter((s) => s['type'] === 'local-candidate')
            .map((s) => String(s['candidateType'])),
        };
      }),
    );
  });
}

describe(
  'media through TURN (coturn, relay only)',
  { skip: !coturnInstalled() && 'no /usr/bin/turnserver (apt-get install coturn)' },
  () => {
    let coturn: Coturn;
    let server: TestServer;
    let browser: Browser;
    let alice: Participant;
    let bob: Participant;

    before(async () => {
      browser = await launchBrowser();
      coturn = await startCoturn(SECRET);
      server = await startTestServer({
        media: { iceTransportPolicy: 'relay' },
        turn: { urls: [coturn.url], secret: SECRET, ttlSeconds: 600 },
      });
      alice = await newParticipant(browser, server.url, 'Alice');
      bob = await newParticipant(browser, server.url, 'Bob');
      for (const p of [alice, bob]) await recordPeerConnections(p);
      await alice.createRoom({ name: ROOM });
      await bob.joinRoom(ROOM);
      await bob.waitInRoom();
      for (const p of [alice, bob]) await p.waitParticipantCount(2);
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
      await coturn?.stop();
    });

    test('both pages send and receive video and audio', async () => {
      for (const p of [alice, bob]) {
        const gained = await p.waitVideosDecoding(1, 15);
        assert.equal(gained.length, 1, `${p.nickname} decodes the other camera`);
      }
      for (const p of [alice, bob]) await p.waitAudioFlowing(3000);
    });

    test('the transports are relay-only and their selected pairs go through coturn', async () => {
      for (const p of [alice, bob]) {
        const pcs = (await peerConnections(p)).filter((pc) => pc.connectionState === 'connected');
        assert.equal(pcs.length, 2, `${p.nickname}: send + recv connected: ${JSON.stringify(pcs)}`);
        for (const pc of pcs) {
          assert.equal(pc.policy, 'relay');
          assert.equal(pc.selectedLocal, 'relay', `${p.nickname}: ${JSON.stringify(pc)}`);
          assert.ok(pc.localTypes.length > 0 && pc.localTypes.every((t) => t === 'relay'));
          // The TURN REST username Tutti minted for this peer: <expiry>:<peer id>.
          const selfId = await p.page.evaluate(() => window.__tutti?.selfId() ?? '');
          assert.deepEqual(
            pc.turnUsernames.map((u) => u.replace(/^\d+:/, '')),
            [selfId],
          );
        }
      }
      // coturn accepted those credentials: allocations under both peers' usernames.
      const log = coturn.log();
      for (const p of [alice, bob]) {
        const selfId = await p.page.evaluate(() => window.__tutti?.selfId() ?? '');
        const allocated = new RegExp(
          `user <\\d+:${selfId}>: incoming packet ALLOCATE processed, success`,
        );
        assert.match(log, allocated, `coturn allocated for ${p.nickname}:\n${log.slice(-3000)}`);
      }
    });

    test('with a wrong secret, relay-only media does not connect', async () => {
      const wrong = await startTestServer({
        media: { iceTransportPolicy: 'relay' },
        turn: { urls: [coturn.url], secret: 'not-the-secret', ttlSeconds: 600 },
      });
      const carol = await newParticipant(browser, wrong.url, 'Carol');
      try {
        await recordPeerConnections(carol);
        await carol.createRoom({ name: 'Wrong secret' });
        // Plenty for a loopback relay (the good case connects in well under a second).
        await sleep(6000);
        const pcs = await peerConnections(carol);
        assert.ok(pcs.length >= 1, 'transports were created');
        for (const pc of pcs) {
          assert.notEqual(pc.connectionState, 'connected', JSON.stringify(pc));
          assert.deepEqual(pc.localTypes, [], 'no relay candidate without valid credentials');
        }
        const selfId = await carol.page.evaluate(() => window.__tutti?.selfId() ?? '');
        assert.match(coturn.log(), new RegExp(`Cannot find credentials of user <\\d+:${selfId}>`));
        // ICE never starts on any PeerConnection: the page's ICE-start watch rebuilds the
        // media twice (2 s + 2 s each), then gives up and says so (client/src/lib/media/ice.ts).
        await carol.page
          .getByTestId('error')
          .filter({ hasText: 'ICE never started' })
          .waitFor({ timeout: 20_000 });
        await sleep(5000);
        assert.equal(await carol.page.evaluate(() => window.__tutti?.restarts()), 2, 'no more');
      } finally {
        await carol.close();
        await wrong.stop();
      }
    });
  },
);
