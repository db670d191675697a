/**
 * Browser e2e: one room over two workers. With maxConsumersPerRouter 2, Alice and Bob share
 * the first router (their 4 consumers fill it) and Carol lands on a router on the other
 * worker: real Chromium media (simulcast, RTX, transport-cc, audio levels) crosses the pipes
 * both ways.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';

describe('a room spread over two workers (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Participant;
  let bob: Participant;
  let carol: Participant;

  before(async () => {
    browser = await launchBrowser();
    server = await startTestServer({ media: { numWorkers: 2, maxConsumersPerRouter: 2 } });
    alice = await newParticipant(browser, server.url, 'Alice');
    bob = await newParticipant(browser, server.url, 'Bob');
    carol = await newParticipant(browser, server.url, 'Carol');
    await alice.createRoom({ name: 'Spread room' });
    await bob.joinRoom('Spread room');
    await bob.waitInRoom();
    for (const p of [alice, bob]) await p.waitVideosDecoding(1, 10);
    await carol.joinRoom('Spread room');
    await carol.waitInRoom();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('members on different workers see and hear each other through the pipes', async () => {
    const room = server.app.tutti.rooms.rooms().find((r) => r.record.name === 'Spread room')!;
    const routers = room.media.routers();
    assert.equal(routers.length, 2);
    assert.notEqual(routers[0]!.workerPid, routers[1]!.workerPid);
    const pidOf = (nickname: string) => {
      const m = [...room.members()].find((x) => x.info.nickname === nickname)!;
      return room.media.workerPidOf(m.id);
    };
    assert.equal(pidOf('Alice'), pidOf('Bob'));
    assert.notEqual(pidOf('Carol'), pidOf('Alice'), 'Carol is on the other worker');
    for (const p of [alice, bob, carol]) {
      await p.waitVideosDecoding(2, 10);
      await p.waitAudioFlowing(2000);
    }
    assert.ok(room.media.pipes > 0);
    // Per sender: every page receives audio and video from both others (one of them piped).
    const ids = Object.fromEntries(
      [...room.members()].map((m) => [m.info.nickname, m.id] as const),
    );
    for (const [p, others] of [
      [alice, ['Bob', 'Carol']],
      [bob, ['Alice', 'Carol']],
      [carol, ['Alice', 'Bob']],
    ] as const) {
      for (const kind of ['audio', 'video'] as const) {
        await waitFor(
          async () => {
            const byPeer = await p.page.evaluate(
              (k) => window.__tutti!.inboundBytesByPeer(k),
              kind,
            );
            return others.every((o) => (byPeer[ids[o]!] ?? 0) > 2000);
          },
          20_000,
          `${p.nickname} receiving ${kind} from ${others.join(' and ')}`,
        );
      }
    }
  });
});
