import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { existsSync, rmSync } from 'node:fs';
import { mergedPublicDir } from './joinBuilds.ts';
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
import { printPhases } from './joinReport.ts';

/**
 * npm run bench:join — a real Chromium joins a room that already has 2 publishers (bots
 * sending VP8 + Opus); time to the first decoded remote video frame, p50/p95 over ≥ 20
 * joins, for two figures: **link** (navigation of the room's shared link #/room/<id> → first
 * frame) and **click** (click on the room in an open lobby → first frame, the lobby's
 * socket reused). Each join is a fresh browser context. Both join paths run interleaved in
 * the same sitting — `short` (the one-reply join) and `classic` (the old request sequence,
 * the client's `tutti.joinPath`) — and the phase breakdown (joinHook.ts, p50 / p90 per
 * phase) says where the time goes: socket, join answer, router capabilities, the receive
 * PeerConnection's SDP, ICE gathering and checks, DTLS, first RTP of every existing stream,
 * first frame. `--build old=<dist>` runs another client build interleaved with this one
 * against the same server (joinBuilds.ts), for an A/B of client changes in one sitting.
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
    /**
     * Other client builds to run against this one, interleaved, same server: `label=dir`
     * (a dist directory), repeatable; every path runs on each (kinds `<label>:<path>`).
     */
    build: { type: 'string', multiple: true, default: [] },
    /**
     * Extra kinds on this build, each with page settings: `label:key=value,key=value` —
     * repeatable (e.g. an experiment switch read from localStorage).
     */
    variant: { type: 'string', multiple: true, default: [] },
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
/** A path on one build: `page` is the HTML file that loads that build ('' = this build). */
interface Kind {
  label: string;
  path: Path;
  page: string;
  storage?: Record<string, string>;
}
const variants = args.variant.map((v) => {
  const [label = '', settings = ''] = v.split(/:(.*)/s);
  const storage = Object.fromEntries(settings.split(',').map((kv) => kv.split(/=(.*)/s)));
  return { label, storage: storage as Record<string, string> };
});
const BUILDS = args.build.map((b) => {
  const [label = '', dir = ''] = b.split(/=(.*)/s);
  if (!/^[a-z0-9-]+$/.test(label) || !dir) throw new Error('--build <label>=<dist directory>');
  return { label, dir };
});
const KINDS: Kind[] = [
  ...BUILDS.flatMap(({ label }) =>
    PATHS.map((p) => ({ label: `${label}:${p}`, path: p, page: `${label}.html` })),
  ),
  ...PATHS.map((p) => ({ label: p, path: p, page: '' })),
  ...variants.flatMap(({ label, storage }) =>
    PATHS.map((p) => ({ label: `${label}:${p}`, path: p, page: '', storage })),
  ),
];
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
  { path, page: file, storage }: Kind,
  roomId: string,
  streams: number,
): Promise<Record<string, number>> {
  const context = await browser.newContext();
  try {
    await context.addInitScript(pageHook({ noLocalMedia: args['no-local-media'], joinPath: path }));
    if (storage)
      await context.addInitScript((kv) => {
        for (const [k, v] of Object.entries(kv)) localStorage.setItem(k, v);
      }, storage);
    const page = await context.newPage();
    // Kept for a failed join's report (from the navigation on, so early errors count too).
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    if (figure === 'link') {
      await page.goto(`${server.url}/${file}#/room/${roomId}`, { waitUntil: 'commit' });
    } else {
      await page.goto(`${server.url}/${file}`, { waitUntil: 'load' });
      const item = page.locator(`[data-testid="room-item"][data-room-id="${roomId}"]`);
      await item.waitFor({ timeout: 10_000 });
      await page.waitForTimeout(500); // the lobby settled (its socket open, list shown)
      await item.click();
    }
    await page
      .waitForFunction(
        (n) => {
          const m = (window as unknown as { __benchMarks?: PageMarks }).__benchMarks;
          if (m?.frame == null) return false;
          // Every existing stream's first RTP, or give up on that 2 s after the first frame.
          return Object.keys(m.firstRtp).length >= n || performance.now() - m.frame > 2000;
        },
        streams,
        { timeout: 15_000, polling: 20 },
      )
      .catch(async (err: unknown) => {
        // Say how far the page got: its marks so far, and what it reported.
        const reached = await page
          .evaluate(() => JSON.stringify((window as { __benchMarks?: unknown }).__benchMarks))
          .catch(() => 'no marks');
        throw new Error(
          `${err instanceof Error ? err.message.split('\n')[0] : String(err)}; marks ${reached}; page errors ${JSON.stringify(pageErrors)}`,
        );
      });
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
const publicDir = BUILDS.length
  ? mergedPublicDir(path.join(REPO, 'client/dist'), BUILDS)
  : undefined;
const server = await startTuttiServer({
  numWorkers: 1,
  host: args.host,
  ...(publicDir && { env: { TUTTI_SERVER_PUBLIC_DIR: publicDir } }),
});
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
    `[bench:join] room ${roomId} with ${PUBLISHERS} publishers; ${JOINS} joins (+1 warm-up) per figure (${FIGURES.join(', ')}) and kind (${KINDS.map((k) => k.label).join(', ')})` +
      (args['no-local-media'] ? '; joiners do not start their own camera/microphone' : ''),
  );

  const results = new Map<string, Record<string, number>[]>();
  let failures = 0;
  const meter = new CpuMeter([...server.workerPids, server.pid, bots.pid]);
  const streams = 2 * PUBLISHERS;
  for (let i = 0; i <= JOINS && !interrupted(); i++) {
    for (const figure of FIGURES) {
      // Alternate the order so neither path always runs right after the other.
      const order = i % 2 === 0 ? KINDS : [...KINDS].reverse();
      for (const kind of order) {
        if (interrupted()) break;
        const key = `${figure}/${kind.label}`;
        try {
          const phases = await oneJoin(figure, kind, roomId, streams);
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
  let frames = 0;
  for (const figure of FIGURES) {
    const runs = KINDS.map((k) => results.get(`${figure}/${k.label}`) ?? []);
    frames += runs.reduce((n, r) => n + r.length, 0);
    printPhases(
      figure,
      KINDS.map((k) => k.label),
      runs,
    );
    // Ratios of the first frame's p50: each path against classic, the steps of the join
    // path's changes against the path before them, and this build against each --build.
    const frameP50 = (label: string) => {
      const rs = runs[KINDS.findIndex((k) => k.label === label)];
      return rs?.length
        ? percentile(
            rs.map((r) => r['first decoded frame']!),
            50,
          )
        : NaN;
    };
    const pairs: [string, string][] = [
      ...PATHS.filter((p) => p !== 'classic').map((p): [string, string] => [p, 'classic']),
      ['short', 'short-connect'],
      ['short-render-first', 'short'],
      ['short-late-socket', 'short'],
      // Each build against the one before it (--build order, this build last), and this
      // build against the first.
      ...PATHS.flatMap((p) => {
        const builds = [...BUILDS.map(({ label }) => `${label}:${p}`), p];
        const steps = builds.slice(1).map((b, k): [string, string] => [b, builds[k]!]);
        return builds.length > 2 ? [...steps, [p, builds[0]!] as [string, string]] : steps;
      }),
    ];
    for (const [a, b] of pairs) {
      const ratio = frameP50(a) / frameP50(b);
      if (Number.isFinite(ratio))
        console.log(
          `[bench:join] ${figure}: ratio ${a} / ${b} (first frame p50) ${ratio.toFixed(2)}`,
        );
    }
    KINDS.forEach(({ label }, k) => {
      const f = runs[k]!.map((r) => r['first decoded frame']!);
      if (f.length === 0) return;
      const median = percentile(f, 50);
      console.log(
        `[bench:join] ${figure}/${label}: first frame p50 ${median.toFixed(0)} ms, p90 ${percentile(f, 90).toFixed(0)}, p95 ${percentile(f, 95).toFixed(0)} ms, min ${Math.min(...f).toFixed(0)}, max ${Math.max(...f).toFixed(0)}; goal p50 < ${GOAL[figure]} ms: ${median < GOAL[figure] ? 'met' : 'MISSED'}`,
      );
    });
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
  if (publicDir) rmSync(publicDir, { recursive: true, force: true });
}
process.exit(exitCode);
