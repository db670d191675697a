import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WorkerPool } from '@tutti/media-workers';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { ConnectionRegistry } from '../transport/connections.ts';

export interface MetricsOptions {
  workers: WorkerPool;
  rooms: RoomRegistry;
  connections: ConnectionRegistry;
  /** The metrics token or allow list (http/opsAccess.ts): others get 403. */
  guard: (req: FastifyRequest) => Promise<void>;
}

/**
 * GET /metrics in the Prometheus text format: what an operator scales media workers by
 * (worker CPU and routers, rooms, people, open sockets) plus the Node process itself.
 * Only for the metrics token or an allowed address: the labels name worker pids.
 */
export const metricsPlugin: FastifyPluginAsync<MetricsOptions> = async (app, opts) => {
  const { workers, rooms, connections } = opts;
  app.get('/metrics', { onRequest: opts.guard }, async (_req, reply) => {
    const out = new MetricsText();
    const status = workers.status();

    out.gauge('tutti_workers', 'mediasoup workers by state', [
      [{ state: 'alive' }, status.filter((w) => w.alive).length],
      [{ state: 'dead' }, status.filter((w) => !w.alive).length],
    ]);
    out.gauge(
      'tutti_worker_cpu_ratio',
      'worker CPU over the last sample, as a fraction of one core',
      status.filter((w) => w.cpu !== undefined).map((w) => [{ pid: String(w.pid) }, w.cpu ?? 0]),
    );
    out.gauge(
      'tutti_worker_routers',
      'routers (rooms with media) per worker',
      status.map((w) => [{ pid: String(w.pid) }, w.routers]),
    );
    const all = rooms.rooms();
    out.gauge('tutti_rooms', 'rooms known to this node', [[{}, all.length]]);
    out.gauge('tutti_room_peers', 'people in rooms on this node', [
      [{}, all.reduce((n, r) => n + r.size, 0)],
    ]);
    out.gauge('tutti_lobby_subscribers', 'open lobbies receiving the live room list', [
      [{}, rooms.lobbySize],
    ]);
    out.gauge('tutti_signaling_connections', 'open protoo connections', [[{}, connections.count]]);
    const mem = process.memoryUsage();
    out.gauge('tutti_process_resident_bytes', 'resident memory of the Node process', [
      [{}, mem.rss],
    ]);
    out.gauge('tutti_process_heap_used_bytes', 'V8 heap in use', [[{}, mem.heapUsed]]);
    out.counter('tutti_process_uptime_seconds', 'seconds since start', [
      [{}, Math.round(process.uptime())],
    ]);
    return reply.type('text/plain; version=0.0.4').send(out.toString());
  });
};

type Labels = Record<string, string>;

/** Just enough of the exposition format for gauges and counters. */
class MetricsText {
  #lines: string[] = [];

  gauge(name: string, help: string, samples: [Labels, number][]): void {
    this.#metric('gauge', name, help, samples);
  }

  counter(name: string, help: string, samples: [Labels, number][]): void {
    this.#metric('counter', name, help, samples);
  }

  #metric(type: string, name: string, help: string, samples: [Labels, number][]): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
      this.#lines.push(`${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${value}`);
    }
  }

  toString(): string {
    return this.#lines.join('\n') + '\n';
  }
}
