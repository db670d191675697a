import type { FastifyInstance } from 'fastify';
import { requestOrigin } from '../auth/origin.ts';

export interface OriginGuardOptions {
  /** server.publicUrl: its origin counts as ours too (behind a proxy). */
  publicUrl?: string | undefined;
  /** signaling.allowedOrigins: other pages that may open the socket (a dev server). */
  allowedOrigins: readonly string[];
}

/**
 * Cross-site WebSocket hijacking guard on `GET /ws`: browsers send Origin on every WebSocket
 * handshake and the socket carries the session cookie, so an upgrade from another site's
 * page is refused (403 FORBIDDEN) unless its origin is allowed. Same-origin pages pass, and
 * so do handshakes without Origin: they come from no browser (bots, backends, the load
 * tool) and carry no ambient cookie to abuse. A root hook: call it before the transport.
 */
export function refuseCrossOriginSockets(
  app: FastifyInstance,
  opts: OriginGuardOptions,
  path = '/ws',
): void {
  const extra = new Set(opts.allowedOrigins.map((o) => new URL(o).origin));
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.split('?', 1)[0] !== path) return;
    const origin = req.headers.origin;
    if (origin === undefined) return;
    if (
      origin === requestOrigin(req, undefined) ||
      origin === requestOrigin(req, opts.publicUrl) ||
      extra.has(origin)
    ) {
      return;
    }
    req.log.warn({ origin }, 'signaling upgrade refused: cross-origin');
    // As with the drain refusal: the upgrade's socket left Node's HTTP server.
    if (req.headers.upgrade) reply.raw.once('finish', () => req.raw.socket.end());
    await reply
      .status(403)
      .send({ error: 'FORBIDDEN', message: `origin ${origin} may not open the signaling socket` });
    return reply;
  });
}
