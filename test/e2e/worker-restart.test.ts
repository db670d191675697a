/**
 * Browser e2e: a media worker is killed (SIGKILL) under a live call; the server moves the
 * room to a new worker, sends media.restart, and the clients rebuild media by themselves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';

interface Health {
  workers: { pid: number; alive: boolean }[];
}

describe('media survives a killed worker', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Participant;
  let bob: Participant;

  before(async () => {
    // Build the client (if stale) before the server starts serving client/dist.
    browser = await launchBrowser();
    server = await startTestServer();
    alice = await newParticipant(browser, server.url, 'Alice');
    bob = await newParticipant(browser, server.url, 'Bob');
    await alice.createRoom({ name: 'Resilient room' });
    await bob.joinRoom('Resilient room');
    await bob.waitInRoom();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('after SIGKILL of the worker, video and audio flow again without rejoining', async () => {
    for (const p of [alice, bob]) await p.waitVideosDecoding(1, 10);
    const health = (await (await fetch(`${server.url}/api/health/detail`)).json()) as Health;
    const pids = health.workers.filter((w) => w.alive).map((w) => w.pid);
    assert.ok(pids.length > 0, 'health lists worker pids');
    for (const pid of pids) process.kill(pid, 'SIGKILL');

    // Both tabs get media.restart and rebuild transports on their own.
    for (const p of [alice, bob]) {
      await waitFor(
        () => p.page.evaluate(() => (window.__tutti?.restarts() ?? 0) >= 1),
        30_000,
        `${p.nickname} restarted media`,
      );
    }
    for (const p of [alice, bob]) {
      await p.waitVideosDecoding(1, 10, 60_000);
      await p.waitAudioFlowing(2000, 30_000);
      // Still in the same room, nobody rejoined by hand.
      await p.waitParticipantCount(2);
    }
    const after = (await (await fetch(`${server.url}/api/health/detail`)).json()) as Health;
    assert.ok(
      after.workers.some((w) => w.alive && !pids.includes(w.pid)),
      'a new worker runs',
    );
  });
});
