import { loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_BASE_ARGS } from '../helpers/browser.ts';
import { BotProcess } from '../load/controller.ts';
import { ensureRoom } from '../load/signaling.ts';
import { startTuttiServer } from './tutti-server.ts';
import { pageHook, phasesOf, type PageMarks } from './joinHook.ts';

/**
 * node test/bench/joinTrace.ts — where a shared-link join spends the page's time: one
 * warm-up and N traced link joins (fresh context each) into a room with 2 publisher bots.
 * Per join: the resource timings (request → response end, transfer and decoded size) and
 * the renderer main thread's busy time by trace event up to the first decoded frame
 * (Chromium `Tracing`, devtools.timeline). `--out file.json` keeps each join's raw trace
 * (`file.<n>.json`, with the page's marks and navigation's trace time).
 */

const { values: args } = parseArgs({
  options: {
    joins: { type: 'string', default: '3' },
    host: { type: 'string', default: '127.0.0.1' },
    chromium: { type: 'string', default: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
    out: { type: 'string' },
    /** link (navigation of #/room/<id>) or click (on the room in an open lobby). */
    figure: { type: 'string', default: 'link' },
    /** Trace categories (comma list); e.g. add `webrtc,toplevel` to see the ICE agent's steps. */
    categories: {
      type: 'string',
      default: 'devtools.timeline,v8.execute,blink.user_timing,loading',
    },
  },
});

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { data?: Record<string, unknown>; name?: string };
}

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

/**
 * The profile as a timeline from navigation (`t0`, trace µs): per 50 ms slice, the sampled
 * JavaScript time (not idle, not "program") and the three functions that took most of it,
 * so the join's critical path can be read against the phases.
 */
function printTimeline(p: CpuProfile, t0: number, endMs: number): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const SLICE = Number(process.env.JOIN_TRACE_SLICE_MS ?? 50);
  const slices = new Map<number, Map<string, number>>();
  let ts = p.startTime;
  p.samples.forEach((id, i) => {
    ts += p.timeDeltas[i] ?? 0;
    const at = (ts - t0) / 1000;
    if (at < 0 || at > endMs) return;
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)' || f.functionName === '(program)') return;
    const url = f.url.replace(/^https?:\/\/[^/]+/, '').replace(/^\/assets\//, '');
    const key = `${f.functionName || '(anon)'}${url ? ` ${url}` : ''}`;
    const slice = slices.get(Math.floor(at / SLICE)) ?? new Map<string, number>();
    slices.set(Math.floor(at / SLICE), slice);
    slice.set(key, (slice.get(key) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  });
  console.log('  JavaScript by 50 ms slice from the start (sampled ms, top 3):');
  for (const [k, slice] of [...slices.entries()].sort((a, b) => a[0] - b[0])) {
    const total = [...slice.values()].reduce((a, b) => a + b, 0);
    const top = [...slice.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
    console.log(
      `    ${String(k * SLICE).padStart(5)} ${total.toFixed(0).padStart(3)}  ${top.map(([n, v]) => `${n} ${v.toFixed(0)}`).join(', ')}`,
    );
  }
}

/** Self time by function (top 25) and by script, of the sampled profile. */
function printProfile(p: CpuProfile): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, ms] of self) {
    const f = byId.get(id)!.callFrame;
    const url = f.url.replace(/^https?:\/\/[^/]+/, '') || '(native)';
    const key = `${f.functionName || '(anon)'} ${url}:${f.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + ms);
    file.set(url, (file.get(url) ?? 0) + ms);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log('  profile self time by script (ms):');
  for (const [k, v] of top(file, 8)) console.log(`    ${v.toFixed(1).padStart(7)}  ${k}`);
  console.log('  profile self time by function (ms):');
  for (const [k, v] of top(fn, 25)) console.log(`    ${v.toFixed(1).padStart(7)}  ${k}`);
}

const server = await startTuttiServer({ numWorkers: 1, host: args.host });
const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: CHROMIUM_BASE_ARGS,
});
let bots: BotProcess | undefined;
try {
  const roomId = await ensureRoom(server.wsUrl, 'bench-join-trace');
  bots = await BotProcess.start({
    mode: 'tutti',
    url: server.url,
    bindAddress: args.host,
    headerExt: 'none',
  });
  await bots.spawn({ room: 'bench-join-trace', publishers: 2, subscribers: 0, media: 'av' });
  for (let i = 0; i <= Number(args.joins); i++) {
    const context = await browser.newContext();
    await context.addInitScript(pageHook({ noLocalMedia: false, joinPath: 'short' }));
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const events: TraceEvent[] = [];
    cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
    const done = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
    if (args.figure === 'click') {
      await page.goto(`${server.url}/`, { waitUntil: 'load' });
      await page.locator(`[data-testid="room-item"][data-room-id="${roomId}"]`).waitFor();
      await page.waitForTimeout(500);
    }
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    await cdp.send('Tracing.start', {
      traceConfig: {
        includedCategories: args.categories.split(','),
      },
    });
    if (args.figure === 'click')
      await page.locator(`[data-testid="room-item"][data-room-id="${roomId}"]`).click();
    else await page.goto(`${server.url}/#/room/${roomId}`, { waitUntil: 'commit' });
    await page.waitForFunction(
      () => (window as unknown as { __benchMarks?: PageMarks }).__benchMarks?.frame != null,
      undefined,
      { timeout: 15_000, polling: 20 },
    );
    const info = await page.evaluate(() => {
      const m = (window as unknown as { __benchMarks: PageMarks }).__benchMarks;
      const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return {
        marks: m,
        timeOrigin: performance.timeOrigin,
        nav: {
          responseStart: nav.responseStart,
          responseEnd: nav.responseEnd,
          domInteractive: nav.domInteractive,
          dcl: nav.domContentLoadedEventEnd,
          load: nav.loadEventEnd,
        },
        res: res.map((r) => ({
          name: r.name.replace(/^https?:\/\/[^/]+/, ''),
          start: r.startTime,
          responseStart: r.responseStart,
          end: r.responseEnd,
          transfer: r.transferSize,
          decoded: r.decodedBodySize,
        })),
      };
    });
    const metrics = (await cdp
      .send('Performance.enable')
      .then(() => cdp.send('Performance.getMetrics'))) as {
      metrics: { name: string; value: number }[];
    };
    const { profile } = (await cdp.send('Profiler.stop')) as { profile: CpuProfile };
    await cdp.send('Tracing.end');
    await done;
    await context.close();
    if (i === 0) continue;
    const phases = phasesOf(
      info.marks,
      'short',
      args.figure === 'click' ? (info.marks.click ?? 0) : 0,
    );
    printProfile(profile);
    console.log(`\n== join ${i} (load average ${loadavg()[0]!.toFixed(1)})`);
    console.log(
      '  nav',
      JSON.stringify(info.nav, (_k, v) => (typeof v === 'number' ? Math.round(v) : v)),
    );
    for (const r of info.res)
      console.log(
        `  ${r.name.padEnd(44)} ${r.start.toFixed(0).padStart(5)} → ${r.responseStart.toFixed(0).padStart(5)} → ${r.end.toFixed(0).padStart(5)}  ${r.transfer} B (${r.decoded} B)`,
      );
    for (const [k, v] of Object.entries(phases)) console.log(`  ${k.padEnd(36)} ${v.toFixed(0)}`);
    const m = Object.fromEntries(metrics.metrics.map((x) => [x.name, x.value]));
    console.log(
      `  metrics: script ${(m.ScriptDuration! * 1000).toFixed(0)} ms, layout ${(m.LayoutDuration! * 1000).toFixed(0)} ms, style ${(m.RecalcStyleDuration! * 1000).toFixed(0)} ms, task ${(m.TaskDuration! * 1000).toFixed(0)} ms`,
    );
    // Main thread of the page's renderer: the thread that parsed the server's page (not
    // about:blank's, which a cross-process navigation leaves in another renderer).
    const page0 = (e: TraceEvent) => {
      // ParseHTML carries its URL in args.beginData, navigationStart in args.data.
      const a = e.args as { beginData?: { url?: string } } | undefined;
      const d = e.args?.data as { url?: string; documentLoaderURL?: string } | undefined;
      return (a?.beginData?.url ?? d?.documentLoaderURL ?? d?.url ?? '').startsWith(server.url);
    };
    const main =
      events.find((e) => e.name === 'ParseHTML' && page0(e)) ??
      events.findLast((e) => e.name === 'ParseHTML');
    const nav =
      events.find((e) => e.name === 'navigationStart' && page0(e)) ??
      events.find(
        (e) =>
          (e.name === 'navigationStart' || e.name === 'NavigationStart') &&
          (!main || e.pid === main.pid),
      );
    if (!main) continue;
    // The timeline from the figure's start: navigation, or the click (page time, ms).
    const from = args.figure === 'click' ? (info.marks.click ?? 0) : 0;
    const clickMark = events.find((e) => e.name === 'bench:click');
    const start = args.figure === 'click' ? clickMark?.ts : nav?.ts;
    if (start !== undefined) printTimeline(profile, start, (info.marks.frame ?? 0) - from);
    const t0 = nav?.ts ?? main.ts;
    const frameTs =
      args.figure === 'click' && clickMark
        ? clickMark.ts + ((info.marks.frame ?? 0) - from) * 1000
        : t0 + (info.marks.frame ?? 0) * 1000;
    const busy = new Map<string, number>();
    for (const e of events) {
      if (e.pid !== main.pid || e.tid !== main.tid || e.ph !== 'X' || !e.dur) continue;
      if (e.ts > frameTs) continue;
      const url = (e.args?.data?.url as string | undefined)?.replace(/^https?:\/\/[^/]+/, '');
      const key =
        [
          'EvaluateScript',
          'v8.compile',
          'v8.compileModule',
          'v8.evaluateModule',
          'ParseHTML',
          'FunctionCall',
        ].includes(e.name) && url
          ? `${e.name} ${url}`
          : e.name;
      busy.set(key, (busy.get(key) ?? 0) + e.dur / 1000);
    }
    const top = [...busy.entries()].sort((a, b) => b[1] - a[1]).slice(0, 18);
    console.log('  main-thread time by event up to the first frame (ms, nested events overlap):');
    for (const [k, v] of top) console.log(`    ${v.toFixed(1).padStart(7)}  ${k}`);
    if (args.out)
      writeFileSync(
        args.out.replace(/(\.json)?$/, `.${i}.json`),
        JSON.stringify({ traceEvents: events, marks: info.marks, navTs: t0 }),
      );
  }
} finally {
  await browser.close();
  await bots?.stop();
  await server.stop();
}
