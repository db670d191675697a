import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childPids } from '../load/cpu.ts';
import { startCpuProfile } from './inspectorSession.ts';

/**
 * Runs a real Tutti server (`node server/src/main.ts`) in its own process on 127.0.0.1,
 * so that its Node process and its mediasoup workers can be measured apart from the bots.
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface TuttiServer {
  url: string;
  wsUrl: string;
  pid: number;
  workerPids: number[];
  /** With `inspect: true`: full GC in the server, then its JS heap use (V8 inspector). */
  gcHeapUsed(): Promise<number>;
  /** With `inspect: true`: the server's V8 inspector WebSocket URL (heap snapshots). */
  inspectorUrl(): string | undefined;
  /** With `inspect: true`: starts V8's CPU profiler there; stop() answers the profile. */
  startCpuProfile(): Promise<() => Promise<unknown>>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export async function startTuttiServer(
  opts: {
    numWorkers?: number;
    env?: Record<string, string>;
    inspect?: boolean;
    /** More Node/V8 flags for the server process (e.g. `--v8-pool-size=0`). */
    nodeArgs?: string[];
    /** A loopback address of its own (HTTP and media), e.g. one node of a cluster. */
    host?: string;
    /** Shared with other nodes (kept on stop); default a fresh temp dir. */
    dataDir?: string;
  } = {},
): Promise<TuttiServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = await freePort();
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'tutti-bench-'));
  const nodeArgs = [...(opts.inspect ? ['--inspect=127.0.0.1:0'] : []), ...(opts.nodeArgs ?? [])];
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, path.join(REPO, 'server/src/main.ts')],
    {
      cwd: REPO,
      env: {
        ...process.env,
        TUTTI_SERVER_HOST: host,
        TUTTI_SERVER_PORT: String(port),
        TUTTI_SERVER_LOG_LEVEL: 'error',
        TUTTI_MEDIA_NUM_WORKERS: String(opts.numWorkers ?? 1),
        TUTTI_MEDIA_LISTEN_IP: host,
        TUTTI_ROOMS_MAX_CAPACITY: '1000',
        // Every bot connects from 127.0.0.1: lift the per-address socket cap; no HTTPS port.
        TUTTI_SIGNALING_MAX_CONNECTIONS_PER_ADDRESS: '100000',
        TUTTI_SERVER_HTTPS_PORT: '0',
        TUTTI_DATA_DIR: dataDir,
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // Server logs go to our stderr, except the shutdown chatter once stop() was called.
  let stopping = false;
  let inspectorUrl: string | undefined;
  const forward = (chunk: Buffer): void => {
    const text = chunk.toString();
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(text);
    if (m) {
      inspectorUrl = m[1];
      return;
    }
    if (/Debugger|inspector|nodejs\.org\/en\/docs\/inspector/.test(text)) return;
    if (!stopping) process.stderr.write(chunk);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // A bench that throws or exits early must not leave the server (and its workers) behind.
  const killOnExit = (): void => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  const url = `http://${host}:${port}`;
  // A loaded machine can take longer to start the server (TypeScript loading): overridable.
  const startMs = Number(process.env.TUTTI_BENCH_SERVER_START_MS ?? 90_000);
  const deadline = Date.now() + startMs;
  let workerPids: number[];
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Tutti server exited with ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Tutti server did not become healthy within ${startMs / 1000} s`);
    }
    try {
      const res = await fetch(`${url}/api/health/detail`);
      if (res.ok) {
        const body = (await res.json()) as { workers?: { pid: number }[] };
        workerPids = (body.workers ?? []).map((w) => w.pid);
        break;
      }
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (workerPids.length === 0) workerPids = childPids(child.pid ?? 0, 'mediasoup-worker');
  return {
    url,
    wsUrl: `ws://${host}:${port}/ws`,
    pid: child.pid ?? 0,
    workerPids,
    gcHeapUsed: () => {
      if (!inspectorUrl) return Promise.reject(new Error('server not started with inspect: true'));
      return inspectorHeapAfterGc(inspectorUrl);
    },
    inspectorUrl: () => inspectorUrl,
    startCpuProfile: () => {
      if (!inspectorUrl) return Promise.reject(new Error('server not started with inspect: true'));
      return startCpuProfile(inspectorUrl);
    },
    async stop() {
      stopping = true;
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
        await exited;
        clearTimeout(timer);
      }
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Over the V8 inspector protocol: HeapProfiler.collectGarbage, then Runtime.getHeapUsage. */
function inspectorHeapAfterGc(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error('inspector: no answer'));
    }, 20_000);
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
    });
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: { usedSize?: number } };
      if (msg.id === 1) ws.send(JSON.stringify({ id: 2, method: 'Runtime.getHeapUsage' }));
      else if (msg.id === 2) {
        clearTimeout(timer);
        ws.close();
        resolve(msg.result?.usedSize ?? NaN);
      }
    });
    ws.addEventListener('error', () => {
      clearTimeout(timer);
      reject(new Error('inspector: connection failed'));
    });
  });
}
