/**
 * Browser helpers for the e2e tests: builds the client when stale, launches Debian's
 * Chromium through playwright-core (fake camera/mic/screen), and drives participants.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLIENT = path.join(ROOT, 'client');
const DIST_INDEX = path.join(CLIENT, 'dist', 'index.html');

/** Headless Chromium with fake camera/mic/screen; also what test/bench/join.ts launches with. */
export const CHROMIUM_BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

export const CHROMIUM_ARGS = [
  ...CHROMIUM_BASE_ARGS,
  '--autoplay-policy=no-user-gesture-required',
  // Several pages share two cores: don't let Chromium throttle the ones not in front.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  const st = statSync(dir);
  if (!st.isDirectory()) return st.mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    newest = Math.max(newest, newestMtime(path.join(dir, entry.name)));
  }
  return newest;
}

/** True when client/dist is missing or older than anything it is built from. */
export function clientIsStale(): boolean {
  if (!existsSync(DIST_INDEX)) return true;
  const built = statSync(DIST_INDEX).mtimeMs;
  const sources = Math.max(
    newestMtime(path.join(CLIENT, 'src')),
    newestMtime(path.join(CLIENT, 'public')),
    newestMtime(path.join(CLIENT, 'index.html')),
    newestMtime(path.join(CLIENT, 'vite.config.ts')),
    newestMtime(path.join(CLIENT, 'package.json')),
    newestMtime(path.join(ROOT, 'server', 'protocol', 'src')),
  );
  return sources > built;
}

let building: Promise<void> | null = null;

/** Builds client/dist with Vite (once per process, and only when stale). */
export function ensureClientBuilt(): Promise<void> {
  building ??= (async () => {
    const lock = path.join(ROOT, '.tutti-run', 'client-build.lock');
    mkdirSync(path.dirname(lock), { recursive: true });
    // Another test process may be building: a mkdir lock serialises the builds.
    const deadline = Date.now() + 180_000;
    for (;;) {
      try {
        mkdirSync(lock);
        break;
      } catch {
        if (Date.now() > deadline) {
          rmdirSync(lock);
          continue;
        }
        await sleep(250);
      }
    }
    try {
      if (!clientIsStale()) return;
      const { build } = await import('vite');
      await build({
        root: CLIENT,
        configFile: path.join(CLIENT, 'vite.config.ts'),
        logLevel: 'warn',
      });
    } finally {
      rmdirSync(lock);
    }
  })();
  return building;
}

export interface LaunchOptions {
  /** Launch through this executable instead (e.g. a wrapper that enters a network namespace). */
  executablePath?: string;
  /** Appended to CHROMIUM_ARGS. */
  extraArgs?: string[];
}

export async function launchBrowser(opts: LaunchOptions = {}): Promise<Browser> {
  await ensureClientBuilt();
  return chromium.launch({
    executablePath: opts.executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, ...(opts.extraArgs ?? [])],
  });
}

export interface ParticipantOptions {
  /** Camera capture height (lower = less CPU); default 240. */
  cameraHeight?: number;
  viewport?: { width: number; height: number };
  /** Turn on camera and mic when joining (default true). */
  media?: boolean;
}

export interface Participant {
  context: BrowserContext;
  page: Page;
  nickname: string;
  /** Opens the lobby and fills in the nickname. */
  openLobby(): Promise<void>;
  createRoom(opts: { name: string; password?: string; capacity?: number }): Promise<void>;
  /** Clicks the room in the lobby list (and submits the password if given). */
  joinRoom(name: string, password?: string): Promise<void>;
  waitInRoom(): Promise<void>;
  participantCount(): Promise<number>;
  waitParticipantCount(n: number, timeoutMs?: number): Promise<void>;
  /** totalVideoFrames of each remote <video>, in DOM order. */
  frameCounts(): Promise<number[]>;
  /** Per remote video: its peer's nickname, source and frames. */
  videos(): Promise<{ peerId: string; source: string; frames: number; width: number }[]>;
  /** Waits until n remote videos exist and each decodes at least minFrames new frames. */
  waitVideosDecoding(n: number, minFrames?: number, timeoutMs?: number): Promise<number[]>;
  inboundBytes(kind: 'audio' | 'video'): Promise<number>;
  /** Where the page's media stands (transports, consumers), or why it could not be read. */
  mediaDiagnostics(): Promise<unknown>;
  /** Waits until inbound audio bytes grow by at least minBytes. */
  waitAudioFlowing(minBytes?: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function newParticipant(
  browser: Browser,
  baseUrl: string,
  nickname: string,
  opts: ParticipantOptions = {},
): Promise<Participant> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1280, height: 720 },
    permissions: ['camera', 'microphone'],
  });
  const cameraHeight = opts.cameraHeight ?? 240;
  await context.addInitScript(
    ({ h, media }: { h: number; media: boolean }) => {
      try {
        localStorage.setItem('tutti.cameraHeight', String(h));
        localStorage.setItem('tutti.autoMedia', media ? 'on' : 'off');
      } catch {
        // about:blank has no storage
      }
    },
    { h: cameraHeight, media: opts.media ?? true },
  );
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${nickname}] page error:`, err.message));
  // The client's own warnings (an ICE watch firing, client/src/lib/media/ice.ts).
  page.on('console', (m) => {
    if (m.type() === 'warning' && m.text().startsWith('tutti:'))
      console.error(`[${nickname}] ${m.text()}`);
  });

  const p: Participant = {
    context,
    page,
    nickname,
    async openLobby() {
      await page.goto(baseUrl + '/');
      await page.getByTestId('nickname').fill(nickname);
    },
    async createRoom({ name, password, capacity }) {
      await p.openLobby();
      await page.getByTestId('room-name').fill(name);
      if (password) await page.getByTestId('room-password').fill(password);
      if (capacity) await page.getByTestId('room-capacity').fill(String(capacity));
      await page.getByTestId('create-room').click();
      await p.waitInRoom();
    },
    async joinRoom(name, password) {
      if (!page.url().startsWith(baseUrl)) await p.openLobby();
      else await page.getByTestId('nickname').fill(nickname);
      await page.getByTestId('room-item').filter({ hasText: name }).first().click();
      if (password !== undefined) {
        await page.getByTestId('join-password').fill(password);
        await page.getByTestId('join-submit').click();
      }
    },
    async waitInRoom() {
      await page.getByTestId('participant-list').waitFor({ timeout: 20_000 });
    },
    async participantCount() {
      const text = await page.getByTestId('participant-count').textContent();
      return Number(text?.trim());
    },
    async waitParticipantCount(n, timeoutMs = 20_000) {
      await page.waitForFunction(
        (n: number) =>
          document.querySelector('[data-testid="participant-count"]')?.textContent?.trim() ===
          String(n),
        n,
        { timeout: timeoutMs },
      );
    },
    async frameCounts() {
      return page.$$eval('[data-testid="remote-video"]', (els) =>
        els.map((v) => (v as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames),
      );
    },
    async videos() {
      return page.$$eval('[data-testid="remote-video"]', (els) =>
        els.map((el) => {
          const v = el as HTMLVideoElement;
          return {
            peerId: v.dataset['peerId'] ?? '',
            source: v.dataset['source'] ?? '',
            frames: v.getVideoPlaybackQuality().totalVideoFrames,
            width: v.videoWidth,
          };
        }),
      );
    },
    async waitVideosDecoding(n, minFrames = 10, timeoutMs = 45_000) {
      const deadline = Date.now() + timeoutMs;
      await page.waitForFunction(
        (n: number) => document.querySelectorAll('[data-testid="remote-video"]').length >= n,
        n,
        { timeout: timeoutMs },
      );
      const start = await p.frameCounts();
      let last = start;
      while (Date.now() < deadline) {
        last = await p.frameCounts();
        const rising = last.length >= n && last.every((f, i) => f - (start[i] ?? 0) >= minFrames);
        if (rising) return last.map((f, i) => f - (start[i] ?? 0));
        await sleep(500);
      }
      // What the page's media looked like, so an intermittent failure can be told apart.
      const media = await p.mediaDiagnostics();
      throw new Error(
        `${nickname}: remote videos not decoding: start=${JSON.stringify(start)} now=${JSON.stringify(last)} media=${JSON.stringify(media)}`,
      );
    },
    async mediaDiagnostics() {
      return page
        .evaluate(() => window.__tutti?.diagnostics())
        .catch((err: unknown) => String(err));
    },
    async inboundBytes(kind) {
      return page.evaluate(async (k) => (await window.__tutti?.inboundBytes(k)) ?? 0, kind);
    },
    async waitAudioFlowing(minBytes = 2000, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      const start = await p.inboundBytes('audio');
      let now = start;
      while (Date.now() < deadline) {
        now = await p.inboundBytes('audio');
        if (now - start >= minBytes) return;
        await sleep(500);
      }
      throw new Error(`${nickname}: inbound audio not flowing (${start} → ${now} bytes)`);
    },
    async close() {
      await context.close().catch(() => undefined);
    },
  };
  return p;
}

/** Polls fn until it returns a truthy value (or throws after timeoutMs). */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

declare global {
  interface Window {
    __tutti?: {
      /** The page's remote tracks (client/src/lib/session/testHooks.ts), as tests read them. */
      session: {
        readonly tracks: {
          consumerId: string;
          peerId: string;
          kind: string;
          source: string;
          producerPaused: boolean;
        }[];
      };
      inboundBytes(kind: 'audio' | 'video'): Promise<number>;
      inboundBytesByPeer(kind: 'audio' | 'video'): Promise<Record<string, number>>;
      selfId(): string;
      producerPaused(source: string): boolean | null;
      restarts(): number;
      diagnostics(): Promise<Record<string, unknown>>;
      tryMute(peerId: string): Promise<void>;
    };
  }
}
