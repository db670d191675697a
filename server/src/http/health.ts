import type { FastifyPluginAsync } from 'fastify';
import type { WorkerPool } from '@tutti/media-workers';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';

export interface HealthOptions {
  workers: WorkerPool;
  rooms: RoomRegistry;
}

/** GET /api/health → { status: 'ok' | 'degraded', workers: [{ pid, alive, cpu?, routers }], rooms }. */
export const healthPlugin: FastifyPluginAsync<HealthOptions> = async (app, opts) => {
  app.get('/api/health', async (_req, reply) => {
    const workers = opts.workers.status();
    const alive = workers.filter((w) => w.alive).length;
    const status = alive === 0 ? 'down' : alive < workers.length ? 'degraded' : 'ok';
    return reply.status(alive === 0 ? 503 : 200).send({
      status,
      workers,
      rooms: opts.rooms.rooms().length,
      uptime: Math.round(process.uptime()),
    });
  });
};
