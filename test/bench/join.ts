import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_BASE_ARGS } from '../helpers/browser.ts';
import { BotProcess, percentile } from '../load/controller.ts';
import { CpuMeter, machineInfo } from '../load/cpu.ts';
import { ensureRoom } from '../load/signaling.ts';
import { startTuttiServer } from './tutti-server.ts';
import { watchInterrupt } from '../load/interrupt.ts';

/**
 * npm run bench:join — a real Chromium joins a room that already has 2 publishers (bots
 * sending VP8 + Opus); time from page navigation to the first decoded remote video frame,
 * p50/p95 over ≥ 20 joins. Each join is a fresh browser context (cold page, new signaling
 * connection, new transports) opening the room's shared link (#/room/<id>).
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    joins: { type: 'string', default: '20' },
    publishers: { type: 'string', default: '2' },
    chromium: { type: 'string', default: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
    /** Join without starting the local camera and microphone (the client's autoMedia off). */
    'no-local-media': { type: 'boolean', default: false },
  },
});
const JOINS = Math.min(200, Math.max(1, Number(args.joins)));
const PUBLISHERS = Math.min(10, Math.max(1, Number(args.publishers)));

/** Runs in the page before any of its scripts: records when the room view and the first frame appear. */
const PAGE_HOOK = `
(() => {
  try { localStorage.setItem('tutti.nickname', 'bench-joiner'); } catch {}
  ${args['no-local-media'] ? "try { localStorage.setItem('tutti.autoMedia', 'off'); } catch {}" : ''}
  const marks = { joined: null, frame: null, pc: null, connected: null, track: null };
  window.__benchMarks = marks;
  // Timestamps from the page's own RTCPeerConnections: first created, first transport
  // connected (ICE + DTLS done), first remote video track.
  const Native = window.RTCPeerConnection;
  if (Native) {
    window.RTCPeerConnection = class extends Native {
      constructor(...a) {
        super(...a);
        if (marks.pc === null) marks.pc = performance.now();
        this.addEventListener('connectionstatechange', () => {
          if (this.connectionState === 'connected' && marks.connected === null) marks.connected = performance.now();
        });
        this.addEventListener('track', (e) => {
          if (e.track.kind === 'video' && marks.track === null) marks.track = performance.now();
        });
      }
    };
  }
  const seen = new WeakSet();
  const onFrame = () => { if (marks.frame === null) marks.frame = performance.now(); };
  const check = () => {
    if (marks.joined === null && document.querySelector('[data-testid="leave-room"]')) marks.joined = performance.now();
    for (const v of document.querySelectorAll('video[data-testid="remote-video"]')) {
      if (seen.has(v)) continue;
      seen.add(v);
      if (typeof v.requestVideoFrameCallback === 'function') v.requestVideoFrameCallback(onFrame);
      v.addEventListener('resize', () => { if (v.videoWidth > 0) onFrame(); });
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true });
})();
`;

const interrupted = watchInterrupt();

if (!existsSync(path.join(REPO, 'client/dist/index.html'))) {
  console.log('[bench:join] client/dist missing: building the client (npm run build)…');
  execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
}

console.log(`[bench:join] machine: ${machineInfo()}`);
const server = await startTuttiServer({ numWorkers: 1 });
let bots: BotProcess | undefined;
let exitCode = 0;
const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: CHROMIUM_BASE_ARGS,
});
try {
  const roomId = await ensureRoom(server.wsUrl, 'bench-join');
  bots = await BotProcess.start({
    mode: 'tutti',
    url: server.url,
    bindAddress: '127.0.0.1',
    headerExt: 'none',
  });
  const pub = await bots.spawn({
    room: 'bench-join',
    publishers: PUBLISHERS,
    subscribers: 0,
    media: 'av',
  });
  if (pub.ok !== PUBLISHERS) throw new Error(`publishers failed: ${pub.errors.join('; ')}`);
  console.log(
    `[bench:join] room ${roomId} with ${PUBLISHERS} publishers; ${JOINS} joins (+1 warm-up)` +
      (args['no-local-media'] ? '; joiners do not start their own camera/microphone' : ''),
  );

  const frameMs: number[] = [];
  const joinedMs: number[] = [];
  const dclMs: number[] = [];
  const pcMs: number[] = [];
  const connectedMs: number[] = [];
  const trackMs: number[] = [];
  let failures = 0;
  const meter = new CpuMeter([...server.workerPids, server.pid, bots.pid]);
  for (let i = 0; i <= JOINS && !interrupted(); i++) {
    const context = await browser.newContext();
    await context.addInitScript(PAGE_HOOK);
    const page = await context.newPage();
    try {
      await page.goto(`${server.url}/#/room/${roomId}`, { waitUntil: 'commit' });
      await page.waitForFunction(
        () =>
          (window as unknown as { __benchMarks?: { frame: number | null } }).__benchMarks?.frame !=
          null,
        undefined,
        { timeout: 15_000, polling: 20 },
      );
      const marks = await page.evaluate(() => {
        const m = (
          window as unknown as {
            __benchMarks: {
              joined: number | null;
              frame: number;
              pc: number | null;
              connected: number | null;
              track: number | null;
            };
          }
        ).__benchMarks;
        const nav = performance.getEntriesByType('navigation')[0] as
          PerformanceNavigationTiming | undefined;
        return { ...m, dcl: nav?.domContentLoadedEventEnd ?? NaN };
      });
      if (i > 0) {
        frameMs.push(marks.frame);
        dclMs.push(marks.dcl);
        if (marks.pc !== null) pcMs.push(marks.pc);
        if (marks.connected !== null) connectedMs.push(marks.connected);
        if (marks.track !== null) trackMs.push(marks.track);
        if (marks.joined !== null) joinedMs.push(marks.joined);
      }
      process.stdout.write(
        `${process.stdout.isTTY ? '\r' : ''}[bench:join] ${i === 0 ? 'warm-up' : `join ${i}/${JOINS}`}: room view ${marks.joined?.toFixed(0) ?? '?'} ms, first frame ${marks.frame.toFixed(0)} ms${process.stdout.isTTY ? '   ' : '\n'}`,
      );
    } catch (err) {
      failures++;
      console.error(
        `\n[bench:join] join ${i} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      );
    } finally {
      await context.close();
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  const cpu = meter.sample();
  if (process.stdout.isTTY) process.stdout.write('\n');
  const p50 = percentile(frameMs, 50);
  const p95 = percentile(frameMs, 95);
  console.log(
    `[bench:join] ${frameMs.length} joins, ${failures} failed: navigation → first remote frame p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms, min ${Math.min(...frameMs).toFixed(0)} ms, max ${Math.max(...frameMs).toFixed(0)} ms`,
  );
  console.log(
    `[bench:join] navigation → DOMContentLoaded p50 ${percentile(dclMs, 50).toFixed(0)} ms; navigation → room view shown p50 ${percentile(joinedMs, 50).toFixed(0)} ms, p95 ${percentile(joinedMs, 95).toFixed(0)} ms`,
  );
  console.log(
    `[bench:join] p50 from navigation: first RTCPeerConnection ${percentile(pcMs, 50).toFixed(0)} ms, ` +
      `first remote video track ${percentile(trackMs, 50).toFixed(0)} ms, ` +
      `first transport connected (ICE + DTLS) ${percentile(connectedMs, 50).toFixed(0)} ms, ` +
      `first frame ${percentile(frameMs, 50).toFixed(0)} ms`,
  );
  const w = server.workerPids.length;
  console.log(
    `[bench:join] CPU during the joins: worker ${cpu
      .slice(0, w)
      .map((c) => `${(c * 100).toFixed(0)}%`)
      .join(
        '+',
      )}, server Node ${((cpu[w] ?? 0) * 100).toFixed(0)}%, bots ${((cpu[w + 1] ?? 0) * 100).toFixed(0)}% (Chromium not counted)`,
  );
  console.log(`[bench:join] goal p50 < 300 ms: ${p50 < 300 ? 'met' : 'MISSED'}`);
  if (failures > 0 || frameMs.length === 0) exitCode = 1;
} catch (err) {
  console.error(`[bench:join] failed: ${err instanceof Error ? err.message : String(err)}`);
  exitCode = 1;
} finally {
  await browser.close();
  await bots?.stop();
  await server.stop();
}
process.exit(exitCode);
