import { createSocket, type Socket } from 'node:dgram';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import * as mediasoup from 'mediasoup';
import type { Producer, Router, RtpParameters, Worker } from 'mediasoup/types';
import { mediaCodecs, resolveWorkerBin } from '@tutti/media-workers';
import { PortPool } from '../../server/src/recording/portPool.ts';
import { Child } from '../../server/src/recording/process.ts';
import { trackSdp } from '../../server/src/recording/sdp.ts';
import { ffmpegArgs, TrackWriter } from '../../server/src/recording/TrackWriter.ts';
import { waitUdpBound } from '../../server/src/recording/udpBound.ts';
import { silentLogger } from '../../server/src/kernel/log.ts';
import type { ProducerAppData } from '../../server/src/rooms/mediaTypes.ts';
import { CpuMeter, machineBusyMs, machineInfo, udpRcvbufErrors } from '../load/cpu.ts';
import { loadVp8Fixture, RtpStream } from '../load/rtp.ts';
import { addToCap, capProcess, cgroupUnavailable, type CpuCap } from './cgroup.ts';

/**
 * npm run bench:record — how many concurrent per-track recordings one core sustains with
 * no gaps. Each recording is the VP8 fixture (640x360, ~500 kbit/s, 30 fps) sent as RTP by
 * this process. Two set-ups, stepped through the same counts in one run:
 *  - bare (the baseline): RTP straight into `ffmpeg -c copy` (what a recording costs at least);
 *  - tutti: RTP into a PlainTransport producer, out through the recording's TrackWriter
 *    (PlainTransport consumer → ffmpeg -c copy), the code the server runs.
 * The ffmpegs (and, for tutti, the mediasoup worker) share one cgroup capped at `--cap` cores.
 * A recording has a gap when its file misses frames (< 97 % of those sent in its span) or
 * two frames lie more than 150 ms apart. Prints each step and the largest gap-free count per
 * set-up ÷ cap, and the ratio tutti ÷ bare.
 */

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '8,16,32,64' },
    cap: { type: 'string', default: '0.1' },
    window: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '2500' },
  },
});
const steps = args.steps.split(',').map(Number);
const cores = Number(args.cap);
const windowMs = Number(args.window);
const warmupMs = Number(args.warmup);
if (steps.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) fail('--steps: counts 1..256');
if (!(cores >= 0.05 && cores <= 4)) fail('--cap must be 0.05..4 cores');
const noCgroup = cgroupUnavailable();
if (noCgroup) console.warn(`[bench:record] uncapped: ${noCgroup}`);

function fail(msg: string): never {
  console.error(`[bench:record] ${msg}`);
  process.exit(2);
}

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const IP = '127.0.0.1';
const PT = 96;
const fixture = loadVp8Fixture();
const base = 53_000 + 2 * Math.floor(Math.random() * 2000);
const ffmpegPorts = new PortPool(base, base + 999);

interface Sender {
  stream: RtpStream;
  socket: Socket;
  port: number;
  startedAt: number;
}

/** One pacing timer for every stream (like the load bots). */
function pace(senders: Sender[]): () => void {
  const timer = setInterval(() => {
    const now = performance.now();
    for (const s of senders) {
      s.stream.pump(now - s.startedAt, (pkt) => s.socket.send(pkt, s.port, IP));
    }
  }, 5);
  return () => clearInterval(timer);
}

function sender(port: number, ssrc: number): Promise<Sender> {
  const socket = createSocket('udp4');
  return new Promise((resolve) =>
    socket.bind(0, IP, () =>
      resolve({
        stream: new RtpStream(fixture, ssrc, PT),
        socket,
        port,
        startedAt: performance.now(),
      }),
    ),
  );
}

interface Recording {
  file: string;
  pid: () => number | undefined;
  stop(): Promise<void>;
}

interface StepResult {
  mode: 'bare' | 'tutti';
  n: number;
  gaps: number;
  framesPct: number;
  cpuCores: number;
  throttledMs: number;
}

async function bareRecording(dir: string, i: number, senders: Sender[]): Promise<Recording> {
  const port = ffmpegPorts.take();
  const sdp = path.join(dir, `bare-${i}.sdp`);
  const file = path.join(dir, `bare-${i}.webm`);
  const rtp: RtpParameters = {
    codecs: [{ mimeType: 'video/VP8', payloadType: PT, clockRate: 90000 }],
  };
  writeFileSync(sdp, trackSdp('video', rtp, IP, port));
  const child = new Child('ffmpeg', ffmpegArgs(sdp, file), { timeoutMs: 120_000 });
  await waitUdpBound(port, 3000); // RTP before ffmpeg listens would lose the key frame.
  senders.push(await sender(port, 10_000 + i)); // Paced from now on.
  return {
    file,
    pid: () => child.pid,
    stop: async () => {
      await child.stop();
      ffmpegPorts.release(port);
    },
  };
}

async function tuttiRecording(
  dir: string,
  i: number,
  router: Router,
  senders: Sender[],
): Promise<Recording> {
  const ingest = await router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: IP },
    rtcpMux: false,
    comedia: true,
  });
  const ssrc = 20_000 + i;
  const producer = (await ingest.produce({
    kind: 'video',
    rtpParameters: {
      codecs: [{ mimeType: 'video/VP8', payloadType: PT, clockRate: 90000 }],
      encodings: [{ ssrc }],
    },
    appData: { source: 'camera', peerId: `bench-${i}` },
  })) as Producer<ProducerAppData>;
  const source = await sender(ingest.tuple.localPort, ssrc);
  const writer = new TrackWriter(producer, i, {
    ffmpeg: 'ffmpeg',
    ip: IP,
    workerPorts: [base + 1000, base + 1999],
    ffmpegPorts,
    dir,
    log: silentLogger,
    maxMs: 120_000,
  });
  await writer.start(
    router,
    () => Date.now(),
    () => {},
  );
  source.startedAt = performance.now();
  senders.push(source); // Paced from now on.
  const file = path.join(dir, `track-${String(i).padStart(2, '0')}-camera.webm`);
  return {
    file,
    pid: () => writer.pid,
    stop: async () => {
      await writer.stop();
      ingest.close();
    },
  };
}

/** Frames in the file and the longest pause between two, after its first key frame. */
async function inspect(
  file: string,
): Promise<{ frames: number; spanMs: number; maxGapMs: number }> {
  try {
    const { stdout } = await exec('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time'],
      ...['-of', 'csv=p=0', file],
    ]);
    const pts = stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => Number(l) * 1000)
      .sort((a, b) => a - b);
    let maxGapMs = 0;
    for (let i = 1; i < pts.length; i++) maxGapMs = Math.max(maxGapMs, pts[i]! - pts[i - 1]!);
    return { frames: pts.length, spanMs: (pts.at(-1) ?? 0) - (pts[0] ?? 0), maxGapMs };
  } catch {
    return { frames: 0, spanMs: 0, maxGapMs: Infinity };
  }
}

async function step(mode: 'bare' | 'tutti', n: number, worker: Worker): Promise<StepResult> {
  const dir = mkdtempSync(path.join(tmpdir(), `tutti-bench-record-${mode}-`));
  const router = await worker.createRouter({ mediaCodecs });
  const senders: Sender[] = [];
  const recordings: Recording[] = [];
  let cap: CpuCap | undefined;
  const stopPacing = pace(senders);
  try {
    // Started 8 at a time (each waits for its ffmpeg to listen).
    for (let i = 0; i < n; i += 8) {
      const batch = Array.from({ length: Math.min(8, n - i) }, (_, k) =>
        mode === 'bare'
          ? bareRecording(dir, i + k, senders)
          : tuttiRecording(dir, i + k, router, senders),
      );
      recordings.push(...(await Promise.all(batch)));
    }
    const pids = recordings.map((r) => r.pid()).filter((p): p is number => p !== undefined);
    if (mode === 'tutti') pids.push(worker.pid);
    if (!noCgroup) {
      cap = capProcess(pids[0]!, cores, `record-${mode}-${n}`);
      for (const pid of pids.slice(1)) {
        try {
          addToCap(cap, pid);
        } catch {
          // That ffmpeg has exited already: its file shows it (counted as a gap).
        }
      }
    }
    await sleep(warmupMs);
    const meter = new CpuMeter(pids);
    const throttledBefore = cap?.throttled().throttledMs ?? 0;
    await sleep(windowMs);
    const cpuCores = meter.sample().reduce((a, b) => a + b, 0);
    const throttledMs = (cap?.throttled().throttledMs ?? 0) - throttledBefore;
    stopPacing();
    await Promise.all(recordings.map((r) => r.stop()));
    let gaps = 0;
    let frames = 0;
    let expected = 0;
    const inspected: Awaited<ReturnType<typeof inspect>>[] = [];
    for (let i = 0; i < recordings.length; i += 8) {
      inspected.push(
        ...(await Promise.all(recordings.slice(i, i + 8).map((r) => inspect(r.file)))),
      );
    }
    for (const got of inspected) {
      const want = (got.spanMs / 1000) * 30 + 1;
      frames += got.frames;
      expected += want;
      if (got.frames < 0.97 * want || got.maxGapMs > 150 || got.spanMs < windowMs) gaps++;
    }
    return {
      mode,
      n,
      gaps,
      framesPct: (100 * frames) / Math.max(1, expected),
      cpuCores,
      throttledMs,
    };
  } finally {
    stopPacing();
    cap?.release();
    await Promise.all(recordings.map((r) => r.stop().catch(() => {})));
    for (const s of senders) s.socket.close();
    router.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`[bench:record] ${machineInfo()}`);
  console.log(
    `[bench:record] cap ${noCgroup ? 'none' : `${cores} core(s)`}, steps ${steps.join(',')}, ` +
      `warm-up ${warmupMs} ms, window ${windowMs} ms, VP8 ~500 kbit/s 30 fps per recording`,
  );
  const worker = await mediasoup.createWorker({ workerBin: resolveWorkerBin(), logLevel: 'error' });
  const best: Record<'bare' | 'tutti', number> = { bare: 0, tutti: 0 };
  const drops0 = udpRcvbufErrors();
  try {
    for (const mode of ['bare', 'tutti'] as const) {
      for (const n of steps) {
        const busy0 = machineBusyMs();
        const t0 = performance.now();
        const r = await step(mode, n, worker);
        const other = (machineBusyMs() - busy0) / (performance.now() - t0);
        console.log(
          `${mode.padEnd(5)} n=${String(n).padStart(3)}  gaps ${r.gaps}/${n}  frames ${r.framesPct.toFixed(1)}%  ` +
            `cpu ${r.cpuCores.toFixed(2)} cores  throttled ${r.throttledMs.toFixed(0)} ms  ` +
            `machine busy ${other.toFixed(2)} cores`,
        );
        if (r.gaps > 0) break;
        best[mode] = n;
      }
    }
  } finally {
    worker.close();
  }
  const perCore = (n: number) => (noCgroup ? n : n / cores);
  console.log(
    `[bench:record] gap-free per core: bare ${perCore(best.bare)}, tutti ${perCore(best.tutti)}; ` +
      `ratio tutti/bare ${(best.tutti / Math.max(1, best.bare)).toFixed(2)} ` +
      `(UDP receive-buffer drops during the run: ${udpRcvbufErrors() - drops0})`,
  );
  if (best.tutti === steps.at(-1) || best.bare === steps.at(-1)) {
    console.log('[bench:record] the largest step was gap-free: raise --steps to find the limit');
  }
}

await main();
