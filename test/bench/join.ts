import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
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
import { JOIN_PATHS, pageHook, phasesOf, type PageMarks, type Path } from './joinHook.ts';

/**
 * npm run bench:join — a real Chromium joins a room that already has 2 publishers (bots
 * sending VP8 + Opus); time to the first decoded remote video frame, p50/p95 over ≥ 20
 * joins, for two figures: **link** (navigation of the room's shared link #/room/<id> → first
 * frame) and **click** (click on the room in an open lobby → first frame, the lobby's
 * socket reused). Each join is a fresh browser context. Both join paths run interleaved in
 * the same sitting — `short` (the one-reply join) and `classic` (the old request sequence,
 * the client's `tutti.joinPath`) — and the phase breakdown (joinHook.ts) says where the
 * time goes: socket, join answer, router capabilities, transports, ICE + DTLS, first RTP of
 * every existing stream, first frame.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    joins: { type: 'string', default: '20' },
    publishers: { type: 'string', default: '2' },
    chromium: { type: 'string', default: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
    /** Join without starting the local camera and microphone (the client's autoMedia off). */
    'no-local-media': { type: 'boolean', default: false },
    /** Loopback address of the server (HTTP and media) and the bots. */
    host: { type: 'string', default: '127.0.0.1' },
    /**
     * Join paths, interleaved: both (classic,short), all, or a comma list of classic, short
     * (one-reply join, DTLS fingerprint sent ahead), short-connect (one-reply join with
     * media.connectTransport: no fingerprint), short-render-first (short, the room view
     * rendered before the consumers are set up), short-late-socket (short, the socket opened
     * by the app after its chunks evaluated instead of by client/src/boot.ts first).
     */
    path: { type: 'string', default: 'both' },
    /** link | click | both. */
    figure: { type: 'string', default: 'both' },
  },
});
const PATHS = (
  args.path === 'both'
    ? ['classic', 'short']
    : args.path === 'all'
      ? [...JOIN_PATHS]
      : args.path.split(',')
) as Path[];
const FIGURES = (args.figure === 'both' ? ['link', 'click'] : [args.figure]) as (
  'link' | 'click'
)[];
if (!PATHS.every((p) => JOIN_PATHS.includes(p)))
  throw new Error(`--path both|all|<comma list of ${JOIN_PATHS.join(', ')}>`);
if (!FIGURES.every((f) => f === 'link' || f === 'click'))
  throw new Error('--figure link|click|both');
const GOAL = { link: 300, click: 200 };
const JOINS = Math.min(200, Math.max(1, Number(args.joins)));
const PUBLISHERS = Math.min(10, Math.max(1, Number(args.publishers)));

const interrupted = watchInterrupt();

if (!existsSync(path.join(REPO, 'client/dist/index.html'))) {
  console.log('[bench:join] client/dist missing: building the client (npm run build)…');
  execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
}

/** One join in a fresh context: its phases from the figure's start. */
async function oneJoin(
  figure: 'link' | 'click',
  path: Path,
  roomId: string,
  streams: number,
): Promise<Record<string, number>> {
  const context = await browser.newContext();
  try {
    await context.addInitScript(pageHook({ noLocalMedia: args['no-local-media'], joinPath: path }));
    const page = await context.newPage();
    if (figure === 'link') {
      await page.goto(`${server.url}/#/room/${roomId}`, { waitUntil: 'commit' });
    } else {
      await page.goto(`${server.url}/`, { waitUntil: 'load' });
      const item = page.locator(`[data-testid="room-item"][data-room-id="${roomId}"]`);
      await item.waitFor({ timeout: 10_000 });
      await page.waitForTimeout(500); // the lobby settled (its socket open, list shown)
      await item.click();
    }
    await page.waitForFunction(
      (n) => {
        const m = (window as unknown as { __benchMarks?: PageMarks }).__benchMarks;
        if (m?.frame == null) return false;
        // Every existing stream's first RTP, or give up on that 2 s after the first frame.
        return Object.keys(m.firstRtp).length >= n || performance.now() - m.frame > 2000;
      },
      streams,
      { timeout: 15_000, polling: 20 },
    );
    const marks = await page.evaluate(() => {
      const m = (window as unknown as { __benchMarks: PageMarks }).__benchMarks;
      const nav = performance.getEntriesByType('navigation')[0] as
        PerformanceNavigationTiming | undefined;
      return { ...m, dcl: nav?.domContentLoadedEventEnd ?? NaN };
    });
    const start = figure === 'link' ? 0 : (marks.click ?? NaN);
    // A one-reply join sends neither (and with the fingerprint ahead no connectTransport):
    // if it did, it fell back to the old sequence.
    const fellBack =
      'media.ready' in marks.sent ||
      'media.createTransport' in marks.sent ||
      (path !== 'short-connect' && 'media.connectTransport' in marks.sent);
    // One socket per page load: boot.ts's (or the app's), reused by the room.
    if (marks.wsCount !== 1) throw new Error(`the page opened ${marks.wsCount} WebSockets`);
    if (path !== 'classic' && fellBack)
      throw new Error(`${path} path fell back: sent ${Object.keys(marks.sent).join(', ')}`);
    return {
      ...(figure === 'link' && { DOMContentLoaded: marks.dcl ?? NaN }),
      ...phasesOf(marks, path, start),
      'room view shown': (marks.joined ?? NaN) - start,
    };
  } finally {
    await context.close();
  }
}

console.log(`[bench:join] machine: ${machineInfo()}`);
const server = await startTuttiServer({ numWorkers: 1, host: args.host });
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
    bindAddress: args.host,
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
    `[bench:join] room ${roomId} with ${PUBLISHERS} publishers; ${JOINS} joins (+1 warm-up) per figure (${FIGURES.join(', ')}) and path (${PATHS.join(', ')})` +
      (args['no-local-media'] ? '; joiners do not start their own camera/microphone' : ''),
  );

  const results = new Map<string, Record<string, number>[]>();
  let failures = 0;
  const meter = new CpuMeter([...server.workerPids, server.pid, bots.pid]);
  const streams = 2 * PUBLISHERS;
  for (let i = 0; i <= JOINS && !interrupted(); i++) {
    for (const figure of FIGURES) {
      // Alternate the order so neither path always runs right after the other.
      const order = i % 2 === 0 ? PATHS : [...PATHS].reverse();
      for (const path of order) {
        if (interrupted()) break;
        const key = `${figure}/${path}`;
        try {
          const phases = await oneJoin(figure, path, roomId, streams);
          if (i > 0) results.set(key, [...(results.get(key) ?? []), phases]);
          const f = phases['first decoded frame']!;
          process.stdout.write(
            `${process.stdout.isTTY ? '\r' : ''}[bench:join] ${i === 0 ? 'warm-up' : `join ${i}/${JOINS}`} ${key}: first frame ${f.toFixed(0)} ms${process.stdout.isTTY ? '   ' : '\n'}`,
          );
        } catch (err) {
          failures++;
          console.error(
            `\n[bench:join] join ${i} ${key} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  }
  const cpu = meter.sample();
  if (process.stdout.isTTY) process.stdout.write('\n');
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(0).padStart(7) : '      –');
  let frames = 0;
  for (const figure of FIGURES) {
    const runs = PATHS.map((p) => results.get(`${figure}/${p}`) ?? []);
    const p50 = (rs: Record<string, number>[], phase: string) =>
      percentile(
        rs.map((r) => r[phase]!).filter((v) => Number.isFinite(v)),
        50,
      );
    const start = figure === 'link' ? 'navigation' : 'click in the lobby';
    console.log(
      `\n[bench:join] ${figure}: p50 ms from ${start} (n = ${runs.map((r) => r.length).join(' / ')})`,
    );
    const width = (p: Path) => Math.max(9, p.length + 2);
    console.log(`  ${'phase'.padEnd(36)}${PATHS.map((p) => p.padStart(width(p))).join('')}`);
    for (const phase of Object.keys(runs.find((r) => r.length)?.[0] ?? {})) {
      const cells = runs.map((r, k) => fmt(p50(r, phase)).padStart(width(PATHS[k]!)));
      console.log(`  ${phase.padEnd(36)}${cells.join('')}`);
    }
    PATHS.forEach((path, k) => {
      const f = runs[k]!.map((r) => r['first decoded frame']!);
      frames += f.length;
      if (f.length === 0) return;
      const median = percentile(f, 50);
      console.log(
        `[bench:join] ${figure}/${path}: first frame p50 ${median.toFixed(0)} ms, p95 ${percentile(f, 95).toFixed(0)} ms, min ${Math.min(...f).toFixed(0)}, max ${Math.max(...f).toFixed(0)}; goal p50 < ${GOAL[figure]} ms: ${median < GOAL[figure] ? 'met' : 'MISSED'}`,
      );
    });
    // Ratios of the first frame's p50: each path against classic, and the two steps of
    // this change (the fingerprint ahead; the render order) against the path before them.
    const frameP50 = (p: Path) => {
      const rs = runs[PATHS.indexOf(p)];
      return rs?.length ? p50(rs, 'first decoded frame') : NaN;
    };
    const pairs: [Path, Path][] = [
      ...PATHS.filter((p) => p !== 'classic').map((p): [Path, Path] => [p, 'classic']),
      ['short', 'short-connect'],
      ['short-render-first', 'short'],
      ['short-late-socket', 'short'],
    ];
    for (const [a, b] of pairs) {
      const ratio = frameP50(a) / frameP50(b);
      if (Number.isFinite(ratio))
        console.log(
          `[bench:join] ${figure}: ratio ${a} / ${b} (first frame p50) ${ratio.toFixed(2)}`,
        );
    }
  }
  const w = server.workerPids.length;
  console.log(
    `[bench:join] CPU during the joins: worker ${cpu
      .slice(0, w)
      .map((c) => `${(c * 100).toFixed(0)}%`)
      .join(
        '+',
      )}, server Node ${((cpu[w] ?? 0) * 100).toFixed(0)}%, bots ${((cpu[w + 1] ?? 0) * 100).toFixed(0)}% (Chromium not counted); load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  if (failures > 0 || frames === 0) exitCode = 1;
} catch (err) {
  console.error(`[bench:join] failed: ${err instanceof Error ? err.message : String(err)}`);
  exitCode = 1;
} finally {
  await browser.close();
  await bots?.stop();
  await server.stop();
}
process.exit(exitCode);
