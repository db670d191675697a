/**
 * Two participants on one fresh test server, the set-up the join-order e2e tests share:
 * Alice creates rooms, Bob joins them (from the lobby, or by a shared link once
 * `storeNickname` has his name stored, so the link page joins without asking for it).
 */
import type { Browser } from 'playwright-core';
import { launchBrowser, newParticipant, waitFor, type Participant } from './browser.ts';
import { startTestServer, type TestServer } from './startServer.ts';

export interface BrowserPair {
  readonly browser: Browser;
  readonly server: TestServer;
  readonly alice: Participant;
  readonly bob: Participant;
  close(): Promise<void>;
}

/** Starts a server on `host` (signaling and media) and a browser with Alice and Bob. */
export async function startBrowserPair(host: string): Promise<BrowserPair> {
  const browser = await launchBrowser();
  const server = await startTestServer({ server: { host }, media: { listenIp: host } });
  const alice = await newParticipant(browser, server.url, 'Alice');
  const bob = await newParticipant(browser, server.url, 'Bob');
  return {
    browser,
    server,
    alice,
    bob,
    async close() {
      await browser.close();
      await server.stop();
    },
  };
}

/** Every page of the participant's context finds `name` stored as its nickname. */
export async function storeNickname(p: Participant, name: string): Promise<void> {
  await p.context.addInitScript((n: string) => {
    try {
      localStorage.setItem('tutti.nickname', n);
    } catch {
      // about:blank has no storage
    }
  }, name);
}

/** The room id in the participant's address (`#/room/<id>`); fails the test if there is none. */
export function roomIdOf(p: Participant): string {
  const m = /#\/room\/([^/?#]+)/.exec(p.page.url());
  if (!m) throw new Error(`the address names no room: ${p.page.url()}`);
  return decodeURIComponent(m[1]!);
}

/**
 * Waits until the participant's producer of `source` is in the state `want`: `false` on
 * the server and sending, `true` paused, `null` closed (window.__tutti.producerPaused).
 */
export async function waitProducer(
  p: Participant,
  source: string,
  want: boolean | null,
  timeoutMs = 20_000,
): Promise<void> {
  const what = want === null ? 'closed' : want ? 'paused' : 'produced';
  await waitFor(
    async () => (await p.page.evaluate((s) => window.__tutti?.producerPaused(s), source)) === want,
    timeoutMs,
    `${p.nickname}'s ${source} ${what}`,
  );
}

/** Waits until the participant's camera producer is on the server and not paused. */
export function waitCameraProduced(p: Participant): Promise<void> {
  return waitProducer(p, 'camera', false);
}

/** Whether the page's media was rebuilt (media.restart, or the ICE-start watch). */
export async function mediaRebuilt(p: Participant): Promise<boolean> {
  return ((await p.page.evaluate(() => window.__tutti?.restarts())) ?? 0) !== 0;
}
