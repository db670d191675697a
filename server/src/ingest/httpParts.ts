import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TuttiError } from '@tutti/protocol';
import { idSchema, parseOrThrow as parse, safeParseInput } from '@tutti/protocol/schemas';
import type { WhipOffer } from './sdp.ts';

const bearerSchema = z.string().regex(/^Bearer [A-Za-z0-9_-]{16,128}$/);

/** The bearer token of a WHIP/WHEP request ('' when there is none: it verifies as nothing). */
export function bearerToken(req: FastifyRequest): string {
  const bearer = safeParseInput(bearerSchema, req.headers.authorization);
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

/** A session that can be started from an offer (WhipSession, WhepSession). */
interface StartableSession extends SessionResource {
  readonly resourceId: string;
  start(offer: WhipOffer): Promise<string>;
}

/** The node's limits (the ingest module's options). */
export interface SessionLimits {
  maxSessions: number;
  draining: () => boolean;
}

/** One kind of session: its resources and how they are named. */
export interface SessionKind<S> {
  /** `/api/whip` or `/api/whep`: where the Location points. */
  prefix: string;
  sessions: Map<string, S>;
  /** Says what is full in the 503 ("WHIP sessions"). */
  what: string;
}

/**
 * Refuses while draining or at the node's limit, else makes the session, starts it and
 * answers 201 with the SDP answer and the session's Location (RFC 9725 §4.2).
 */
export async function answerSession<S extends StartableSession>(
  reply: FastifyReply,
  limits: SessionLimits,
  kind: SessionKind<S>,
  offer: WhipOffer,
  make: () => S,
): Promise<FastifyReply> {
  if (limits.draining()) {
    throw new TuttiError('DRAINING', 'this node is shutting down: try again in a moment');
  }
  if (kind.sessions.size >= limits.maxSessions) {
    throw new TuttiError('MEDIA_UNAVAILABLE', `too many ${kind.what} on this node`);
  }
  const session = make();
  kind.sessions.set(session.resourceId, session);
  const answer = await session.start(offer);
  return reply
    .status(201)
    .header('content-type', 'application/sdp')
    .header('location', `${kind.prefix}/${session.roomId}/${session.resourceId}`)
    .send(answer);
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
