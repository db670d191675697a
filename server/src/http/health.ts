import type { FastifyPluginAsync } from 'fastify';

/** GET /api/health → { status: 'ok' | 'degraded', workers: [{ pid, alive, cpu?, routers }], rooms }. */
export const healthPlugin: FastifyPluginAsync = async (app) => {
  app.get('/api/health', async (_req, reply) => {
    const workers = app.tutti.workers.status();
    const alive = workers.filter((w) => w.alive).length;
    const status = alive === 0 ? 'down' : alive < workers.length ? 'degraded' : 'ok';
    return reply.status(alive === 0 ? 503 : 200).send({
      status,
      workers,
      rooms: app.tutti.rooms.rooms().length,
      uptime: Math.round(process.uptime()),
    });
  });
};
