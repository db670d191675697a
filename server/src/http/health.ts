import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WorkerPool } from '@tutti/media-workers';
import type { Drain } from '../ops/drain.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';

/** Another reason this node should take no peers now (the cluster: Redis unreachable). */
export type ReadinessCheck = () => string | undefined;

export interface HealthOptions {
  workers: WorkerPool;
  rooms: RoomRegistry;
  drain: Drain;
  /** Guards /api/health/detail (the metrics token or allow list). */
  guard: (req: FastifyRequest) => Promise<void>;
  readiness?: readonly ReadinessCheck[];
}

/**
 * Probes that say little (anyone may call them):
 * - `GET /api/live` → 200 `{ status: 'live' }` while the process serves HTTP (liveness);
 * - `GET /api/ready` → 200 `{ status: 'ready' }` when it takes peers (a worker alive, not
 *   draining), else 503 `{ status: 'draining' | 'no-workers' | <check> }` (readiness);
 * - `GET /api/health` → `{ status: 'ok' | 'degraded' | 'down' }` (503 when down), kept for
 *   older monitors.
 * The internals (worker pids, CPU, routers, room count) are at `GET /api/health/detail`,
 * behind the metrics guard like /metrics.
 */
export const healthPlugin: FastifyPluginAsync<HealthOptions> = async (app, opts) => {
  const { workers, drain } = opts;
  const workerState = () => {
    const all = workers.status();
    const alive = all.filter((w) => w.alive).length;
    const status = alive === 0 ? 'down' : alive < all.length ? 'degraded' : 'ok';
    return { all, alive, status } as const;
  };

  app.get('/api/live', async () => ({ status: 'live' }));

  app.get('/api/ready', async (_req, reply) => {
    const reason =
      (drain.draining ? 'draining' : undefined) ??
      (workerState().alive === 0 ? 'no-workers' : undefined) ??
      opts.readiness?.map((check) => check()).find((r) => r !== undefined);
    return reply.status(reason ? 503 : 200).send({ status: reason ?? 'ready' });
  });

  app.get('/api/health', async (_req, reply) => {
    const { status } = workerState();
    return reply.status(status === 'down' ? 503 : 200).send({ status });
  });

  app.get('/api/health/detail', { onRequest: opts.guard }, async (_req, reply) => {
    const { all, status } = workerState();
    return reply.status(status === 'down' ? 503 : 200).send({
      status,
      draining: drain.draining,
      workers: all,
      rooms: opts.rooms.rooms().length,
      uptime: Math.round(process.uptime()),
    });
  });
};
