import type { FastifyInstance } from 'fastify';
import { TuttiError, type RequestMethod } from '@tutti/protocol';
import type { Handler, HandlerTable } from '../rooms/ports.ts';
import type { Drain } from './drain.ts';

const REFUSAL = 'this server is shutting down; connect again (another node takes you)';

/**
 * The protoo handler tables with `room.create` and `room.join` refused (`DRAINING`, 503)
 * while the node drains. A join already past the gate when the drain began is told
 * `server.draining` right after its answer.
 */
export function gateJoins(tables: readonly HandlerTable[], drain: Drain): HandlerTable[] {
  return tables.map((table) => {
    const gated: HandlerTable = { ...table };
    if (table['room.create']) gated['room.create'] = gate(table['room.create'], drain);
    if (table['room.join']) {
      const join = gate(table['room.join'], drain);
      gated['room.join'] = async (ctx, data) => {
        const answer = await join(ctx, data);
        // After the answer has gone out: the client handles it once it is in the room.
        if (drain.draining) setTimeout(() => drain.tell(ctx.peer), 0);
        return answer;
      };
    }
    return gated;
  });
}

function gate<M extends RequestMethod>(handler: Handler<M>, drain: Drain): Handler<M> {
  return (ctx, data) => {
    if (drain.draining) throw new TuttiError('DRAINING', REFUSAL);
    return handler(ctx, data);
  };
}

/**
 * While the node drains, new signaling sockets (`GET /ws`) get 503 `DRAINING` instead of an
 * upgrade: a client asked to reconnect retries until another node (or this one, restarted)
 * takes it. A root hook: call it before the transport plugin is registered.
 */
export function refuseSocketsWhileDraining(app: FastifyInstance, drain: Drain, path = '/ws'): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!drain.draining || req.url.split('?', 1)[0] !== path) return;
    // An upgrade request's socket left Node's HTTP server (which would close it after the
    // answer): close it ourselves, or it would hold the server open at exit.
    if (req.headers.upgrade) reply.raw.once('finish', () => req.raw.socket.end());
    await reply
      .status(503)
      .header('retry-after', '1')
      .send({ error: 'DRAINING', message: REFUSAL });
    return reply;
  });
}
