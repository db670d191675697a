import { readFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import * as mediasoup from 'mediasoup';
import type { Worker } from 'mediasoup/types';

/**
 * What the soak counts, inside the server's process (test/soak/serverproc.ts): every open
 * mediasoup object (through mediasoup's observer API, so install it *before* the server
 * starts), its open signaling connections and HTTP sockets, and the memory of the server's
 * process and of its media workers (separate processes, read from /proc).
 */

/** Counts that must come back to their baseline exactly. */
export const EXACT_COUNTS = [
  'routers',
  'webRtcTransports',
  'pipeTransports',
  'producers',
  'consumers',
  'dataProducers',
  'dataConsumers',
  'rtpObservers',
  'protooConnections',
  'webSockets',
  'httpSockets',
] as const;
export type CountName = (typeof EXACT_COUNTS)[number];

/** One process's memory, bytes. */
export interface ProcMemory {
  rss: number;
  /** Anonymous (malloc, V8 heap) and file-backed (code, mapped files) parts of rss (/proc). */
  rssAnon: number;
  rssFile: number;
  heapUsed: number;
  heapTotal: number;
  /** Memory of JS objects held outside the V8 heap (Buffers, ArrayBuffers). */
  external: number;
}

/** What the server's process reports: its counts and memory, and its workers' RSS. */
export interface ServerSnapshot {
  counts: Record<CountName, number>;
  server: ProcMemory;
  /** Sum of the media workers' resident sets (from /proc), bytes; 0 where /proc is missing. */
  workerRss: number;
}

/** A soak snapshot: the server's, plus the memory of the bots' process (the soak driver). */
export interface Snapshot extends ServerSnapshot {
  bots: ProcMemory;
}

/** The app's registry of signaling connections. */
export interface ServerGauges {
  protooConnections: () => number;
}

interface Closable {
  observer: { once(event: 'close', listener: () => void): unknown };
}

export class Census {
  readonly #open = new Map<CountName, Set<Closable>>(
    EXACT_COUNTS.map((name) => [name, new Set<Closable>()]),
  );
  readonly #workers = new Set<Worker>();
  readonly #sockets = new Set<Socket>();
  /** Workers that closed while the soak ran (a crash: nothing closes them before stop()). */
  workersClosed = 0;
  readonly #upgraded = new Set<Socket>();
  #gauges: ServerGauges = { protooConnections: () => 0 };
  readonly #onWorker = (worker: Worker): void => {
    this.#workers.add(worker);
    worker.observer.once('close', () => {
      this.#workers.delete(worker);
      this.workersClosed++;
    });
    worker.observer.on('newrouter', (router) => {
      this.#track('routers', router);
      router.observer.on('newrtpobserver', (o) => this.#track('rtpObservers', o));
      router.observer.on('newtransport', (transport) => {
        this.#track(transport.type === 'pipe' ? 'pipeTransports' : 'webRtcTransports', transport);
        transport.observer.on('newproducer', (p) => this.#track('producers', p));
        transport.observer.on('newconsumer', (c) => this.#track('consumers', c));
        transport.observer.on('newdataproducer', (p) => this.#track('dataProducers', p));
        transport.observer.on('newdataconsumer', (c) => this.#track('dataConsumers', c));
      });
    });
  };

  constructor() {
    mediasoup.observer.on('newworker', this.#onWorker);
  }

  /** Starts counting the server's sockets (call right after listen, before any client). */
  watchServer(server: Server, gauges: ServerGauges): void {
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    // Sockets upgraded to WebSocket (the raw side of the signaling connections).
    server.on('upgrade', (_req, socket: Socket) => {
      this.#upgraded.add(socket);
      socket.once('close', () => this.#upgraded.delete(socket));
    });
    this.#gauges = gauges;
  }

  get workerPids(): number[] {
    return [...this.#workers].map((w) => w.pid);
  }

  /** Counts now; memory after a full GC when the process runs with --expose-gc. */
  snapshot(collect = true): ServerSnapshot {
    const counts = Object.fromEntries(
      EXACT_COUNTS.map((name) => [name, this.#open.get(name)!.size]),
    ) as Record<CountName, number>;
    counts.protooConnections = this.#gauges.protooConnections();
    counts.webSockets = this.#upgraded.size;
    counts.httpSockets = this.#sockets.size;
    const workerRss = this.workerPids.reduce((sum, pid) => sum + procStatus(pid).rss, 0);
    return { counts, server: processMemory(collect), workerRss };
  }

  stop(): void {
    mediasoup.observer.off('newworker', this.#onWorker);
  }

  #track(name: CountName, obj: Closable): void {
    const set = this.#open.get(name)!;
    set.add(obj);
    obj.observer.once('close', () => set.delete(obj));
  }
}

/** VmRSS, RssAnon and RssFile of a process in bytes (Linux /proc), 0 if unreadable. */
export function procStatus(pid: number | 'self'): {
  rss: number;
  rssAnon: number;
  rssFile: number;
} {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    /* not Linux, or the process is gone */
  }
  const kB = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rss: kB('VmRSS'), rssAnon: kB('RssAnon'), rssFile: kB('RssFile') };
}

/** This process's memory; after a full GC first when `collect` (and run with --expose-gc). */
export function processMemory(collect: boolean): ProcMemory {
  if (collect) globalThis.gc?.();
  const mem = process.memoryUsage();
  const status = procStatus('self');
  return {
    rss: mem.rss,
    rssAnon: status.rssAnon,
    rssFile: status.rssFile,
    heapUsed: mem.heapUsed,
    heapTotal: mem.heapTotal,
    external: mem.external,
  };
}

function maxMemory(a: ProcMemory, b: ProcMemory): ProcMemory {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof ProcMemory)[]) out[k] = Math.max(a[k], b[k]);
  return out;
}

/** The largest of each value over a run. */
export function peakOf(a: Snapshot, b: Snapshot): Snapshot {
  const counts = { ...a.counts };
  for (const name of EXACT_COUNTS) counts[name] = Math.max(a.counts[name], b.counts[name]);
  return {
    counts,
    server: maxMemory(a.server, b.server),
    bots: maxMemory(a.bots, b.bots),
    workerRss: Math.max(a.workerRss, b.workerRss),
  };
}
