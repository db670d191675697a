import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TuttiError } from '@tutti/protocol';
import { idSchema, parseOrThrow as parse } from '@tutti/protocol/schemas';
import type { MediaSettings, WorkerPool } from '@tutti/media-workers';
import type { Logger } from '../kernel/log.ts';
import { assertNotE2ee } from '../rooms/e2ee.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { answerSession, bearerToken, requireSdpBody, sessionRoutes } from './httpParts.ts';
import { parseOffer } from './sdp.ts';
import type { IngestTokens } from './tokens.ts';
import { WhepSession } from './WhepSession.ts';

export interface WhepHttpOptions {
  rooms: RoomRegistry;
  tokens: IngestTokens;
  sessions: Map<string, WhepSession>;
  media: MediaSettings;
  pool: WorkerPool;
  log: Logger;
  maxSessions: number;
  draining: () => boolean;
}

const querySchema = z.object({ participant: idSchema.optional() }).strict();

/**
 * WHEP playback: POST /api/whep/:roomId[?participant=<peerId>] (Bearer viewer token,
 * application/sdp offer) → 201 + answer + Location · DELETE <Location> · PATCH → 405.
 * Registered inside the ingest plugin (it shares its SDP content-type parser).
 */
export function whepRoutes(app: FastifyInstance, opts: WhepHttpOptions): void {
  const { rooms, tokens, sessions, log } = opts;

  app.post<{ Params: { roomId: string } }>('/api/whep/:roomId', async (req, reply) => {
    const room = await rooms.find(parse(idSchema, req.params.roomId));
    const token = tokens.verify(room.id, bearerToken(req), 'viewer');
    if (!token)
      throw new TuttiError('UNAUTHORIZED', 'Authorization: Bearer <viewer token> required');
    assertNotE2ee(room.record, 'WHEP playback');
    // A password-protected room is fine: the owner handed out the viewer token.
    const { participant } = parse(querySchema, req.query ?? {});
    const offer = parseOffer(requireSdpBody(req), 'view');
    const kind = { prefix: '/api/whep', sessions, what: 'WHEP viewers' };
    return answerSession(
      reply,
      opts,
      kind,
      offer,
      () =>
        new WhepSession({
          room,
          pool: opts.pool,
          media: opts.media,
          tokenId: token.id,
          participant,
          log,
          onClosed: (s) => sessions.delete(s.resourceId),
        }),
    );
  });

  sessionRoutes(app, '/api/whep', sessions);
}
