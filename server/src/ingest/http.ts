import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TuttiError } from '@tutti/protocol';
import {
  idSchema,
  nicknameSchema,
  ownerSecretSchema,
  parseOrThrow as parse,
  safeParseInput,
} from '@tutti/protocol/schemas';
import type { Logger } from '../kernel/log.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { verifyOwnerSecret } from '../rooms/security.ts';
import type { MediaSettings, WorkerPool } from '@tutti/media-workers';
import { assertNotE2ee } from '../rooms/e2ee.ts';
import { answerSession, bearerToken, requireSdpBody, sessionRoutes } from './httpParts.ts';
import { parseOffer } from './sdp.ts';
import type { IngestTokens } from './tokens.ts';
import type { WhepSession } from './WhepSession.ts';
import { whepRoutes } from './whepHttp.ts';
import { WhipSession } from './WhipSession.ts';

export interface IngestHttpOptions {
  rooms: RoomRegistry;
  tokens: IngestTokens;
  sessions: Map<string, WhipSession>;
  viewers: Map<string, WhepSession>;
  media: MediaSettings;
  pool: WorkerPool;
  log: Logger;
  maxSessions: number;
  draining: () => boolean;
}

const tokenBodySchema = z.object({ label: nicknameSchema.optional() }).strict();

/** An SDP offer is small; anything bigger is not one. */
const SDP_LIMIT = 64 * 1024;

/**
 * WHIP (RFC 9725), WHEP and their tokens:
 * POST/GET /api/rooms/:id/ingest-tokens · DELETE /api/rooms/:id/ingest-tokens/:tokenId (owner)
 * POST /api/whip/:roomId (Bearer token, application/sdp) → 201 + Location · DELETE <Location>
 * POST /api/whep/:roomId (Bearer viewer token): see whepHttp.ts
 */
export const ingestHttpPlugin: FastifyPluginAsync<IngestHttpOptions> = async (app, opts) => {
  const { rooms, tokens, sessions, log } = opts;

  app.addContentTypeParser(
    ['application/sdp', 'application/trickle-ice-sdpfrag'],
    { parseAs: 'string', bodyLimit: SDP_LIMIT },
    (_req, body, done) => done(null, body),
  );

  /** The room, if the x-owner-secret header is its owner's. */
  const owned = async (req: FastifyRequest<{ Params: { id: string } }>) => {
    // find(): a room created on another node a moment ago is loaded from the shared store.
    const room = await rooms.find(parse(idSchema, req.params.id));
    const secret = safeParseInput(ownerSecretSchema, req.headers['x-owner-secret']);
    if (!secret.success || !verifyOwnerSecret(secret.data, room.record.ownerSecretHash)) {
      log.warn({ roomId: room.id, ip: req.ip }, 'wrong owner secret (ingest tokens)');
      throw new TuttiError('FORBIDDEN', 'x-owner-secret header of the room owner required');
    }
    return room;
  };

  app.post<{ Params: { id: string } }>('/api/rooms/:id/ingest-tokens', async (req, reply) => {
    const room = await owned(req);
    const body = parse(tokenBodySchema, req.body ?? {});
    const made = tokens.create(room.id, body.label ?? 'WHIP ingest');
    if (!made) throw new TuttiError('RATE_LIMITED', 'too many ingest tokens for this room');
    return reply.status(201).send({
      ...made.info,
      token: made.token,
      whipUrl: `/api/whip/${room.id}`,
      viewerToken: made.viewerToken,
      whepUrl: `/api/whep/${room.id}`,
    });
  });

  app.get<{ Params: { id: string } }>('/api/rooms/:id/ingest-tokens', async (req) => ({
    tokens: tokens.list((await owned(req)).id),
  }));

  app.delete<{ Params: { id: string; tokenId: string } }>(
    '/api/rooms/:id/ingest-tokens/:tokenId',
    async (req, reply) => {
      const room = await owned(req);
      const tokenId = parse(idSchema, req.params.tokenId);
      if (!tokens.revoke(room.id, tokenId)) throw new TuttiError('NOT_FOUND', 'no such token');
      // Revoking also ends what the token (and its viewer token) started.
      for (const s of [...sessions.values(), ...opts.viewers.values()]) {
        if (s.tokenId === tokenId) s.close();
      }
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { roomId: string } }>('/api/whip/:roomId', async (req, reply) => {
    const room = await rooms.find(parse(idSchema, req.params.roomId));
    const token = tokens.verify(room.id, bearerToken(req));
    if (!token)
      throw new TuttiError('UNAUTHORIZED', 'Authorization: Bearer <ingest token> required');
    assertNotE2ee(room.record, 'WHIP ingest');
    // It joins like a browser, and has no password to give.
    if (room.record.passwordHash !== null) {
      throw new TuttiError(
        'FORBIDDEN',
        'WHIP ingest into password-protected rooms is not supported',
      );
    }
    const offer = parseOffer(requireSdpBody(req));
    const kind = { prefix: '/api/whip', sessions, what: 'WHIP sessions' };
    return answerSession(
      reply,
      opts,
      kind,
      offer,
      () =>
        new WhipSession({
          rooms,
          roomId: room.id,
          nickname: token.label,
          tokenId: token.id,
          ip: req.ip,
          log,
          onClosed: (s) => sessions.delete(s.resourceId),
        }),
    );
  });

  sessionRoutes(app, '/api/whip', sessions);
  whepRoutes(app, {
    rooms,
    tokens,
    sessions: opts.viewers,
    media: opts.media,
    pool: opts.pool,
    log,
    maxSessions: opts.maxSessions,
    draining: opts.draining,
  });
};
