import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TuttiError } from '@tutti/protocol';
import { idSchema, parseOrThrow as parse } from '@tutti/protocol/schemas';

const bearerSchema = z.string().regex(/^Bearer [A-Za-z0-9_-]{16,128}$/);

/** The bearer token of a WHIP/WHEP request ('' when there is none: it verifies as nothing). */
export function bearerToken(req: FastifyRequest): string {
  const bearer = bearerSchema.safeParse(req.headers.authorization);
  return bearer.success ? bearer.data.slice(7) : '';
}

/** The SDP offer of a WHIP/WHEP POST; 415 for another content type. */
export function requireSdpBody(req: FastifyRequest): string {
  if (req.headers['content-type']?.split(';')[0]?.trim() !== 'application/sdp') {
    throw new TuttiError('UNSUPPORTED_TYPE', 'Content-Type must be application/sdp');
  }
  if (typeof req.body !== 'string') throw new TuttiError('INVALID_REQUEST', 'SDP offer required');
  return req.body;
}

/** What a session resource needs (WhipSession and WhepSession). */
interface SessionResource {
  readonly roomId: string;
  close(): void;
}

/**
 * The session resource behind a Location (`<prefix>/:roomId/:sessionId`): DELETE ends it,
 * PATCH answers 405 — mediasoup is ICE lite and needs no trickled candidates (RFC 9725
 * §4.3.1 allows 405).
 */
export function sessionRoutes(
  app: FastifyInstance,
  prefix: string,
  sessions: ReadonlyMap<string, SessionResource>,
): void {
  const sessionOf = (req: FastifyRequest<{ Params: { roomId: string; sessionId: string } }>) => {
    const s = sessions.get(parse(idSchema, req.params.sessionId));
    if (!s || s.roomId !== req.params.roomId) throw new TuttiError('NOT_FOUND', 'no such session');
    return s;
  };

  app.delete<{ Params: { roomId: string; sessionId: string } }>(
    `${prefix}/:roomId/:sessionId`,
    async (req, reply) => {
      sessionOf(req).close();
      return reply.status(200).send();
    },
  );

  app.patch<{ Params: { roomId: string; sessionId: string } }>(
    `${prefix}/:roomId/:sessionId`,
    async (req, reply) => {
      sessionOf(req);
      void reply.header('allow', 'DELETE');
      throw new TuttiError('UNKNOWN_METHOD', 'trickle ICE and ICE restarts are not supported');
    },
  );
}
