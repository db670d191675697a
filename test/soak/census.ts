import { readFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import * as mediasoup from 'mediasoup';
import type { Worker } from 'mediasoup/types';

/**
 * What the soak counts: every open mediasoup object of the in-process server (through
 * mediasoup's observer API, so install it *before* the server starts), its open signaling
 * connections and HTTP sockets, and the memory of this process and of the media workers.
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

export interface Snapshot {
  counts: Record<CountName, number>;
  /** This process (server and bots): resident set and V8 heap in use, bytes. */
  rss: number;
  heapUsed: number;
  /** Sum of the media workers' resident sets (from /proc), bytes; 0 where /proc is missing. */
  workerRss: number;
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
  snapshot(collect = true): Snapshot {
    if (collect) globalThis.gc?.();
    const counts = Object.fromEntries(
      EXACT_COUNTS.map((name) => [name, this.#open.get(name)!.size]),
    ) as Record<CountName, number>;
    counts.protooConnections = this.#gauges.protooConnections();
    counts.webSockets = this.#upgraded.size;
    counts.httpSockets = this.#sockets.size;
    const mem = process.memoryUsage();
    const workerRss = this.workerPids.reduce((sum, pid) => sum + procRss(pid), 0);
    return { counts, rss: mem.rss, heapUsed: mem.heapUsed, workerRss };
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

/** VmRSS of a process in bytes (Linux /proc), 0 if unreadable. */
function procRss(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The largest of each value over a run. */
export function peakOf(a: Snapshot, b: Snapshot): Snapshot {
  const counts = { ...a.counts };
  for (const name of EXACT_COUNTS) counts[name] = Math.max(a.counts[name], b.counts[name]);
  return {
    counts,
    rss: Math.max(a.rss, b.rss),
    heapUsed: Math.max(a.heapUsed, b.heapUsed),
    workerRss: Math.max(a.workerRss, b.workerRss),
  };
}
