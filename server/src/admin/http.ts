import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { TuttiError } from '@tutti/protocol';
import { parseOrThrow as parse } from '@tutti/protocol/schemas';
import { addressMatcher } from '../http/opsAccess.ts';
import type { ApiKeyInfo, ApiKeys } from './keys.ts';
import { signJoinToken } from './joinToken.ts';
import { openApiDocument } from './openapi.ts';
import {
  createRoomBody,
  emptyBody,
  mintTokenBody,
  participantParams,
  roomParams,
} from './schemas.ts';
import type { AdminRooms } from './service.ts';

export interface AdminHttpOptions {
  keys: ApiKeys;
  rooms: AdminRooms;
  /** admin.allowIps: CIDRs (after trustProxy); anything else is refused before the key. */
  allowIps: readonly string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key an admin request was authenticated with. */
    apiKey?: ApiKeyInfo;
  }
}

/** `Authorization: Bearer <keyId>:<secret>`. */
function credentials(header: string | undefined): { id: string; secret: string } | undefined {
  const m = /^Bearer\s+([^\s:]+):(\S+)\s*$/i.exec(header ?? '');
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/**
 * The admin API (docs/admin-api.md), an encapsulated plugin: /api/admin/* behind the address
 * allow list and an API key; its OpenAPI description at /api/docs (public: it holds no data).
 */
export const adminHttpPlugin: FastifyPluginAsync<AdminHttpOptions> = async (app, opts) => {
  const document = openApiDocument();
  app.get('/api/docs', async () => document);
  app.get('/api/docs/openapi.json', async () => document);

  const allowed = addressMatcher(opts.allowIps);
  const authenticate = async (req: FastifyRequest) => {
    // The address first: outside the list, not even a key check (no oracle for guessing).
    if (!allowed(req.ip)) throw new TuttiError('FORBIDDEN', 'admin API: address not allowed');
    const given = credentials(req.headers.authorization);
    const key = given && (await opts.keys.authenticate(given.id, given.secret));
    if (!key) throw new TuttiError('UNAUTHORIZED', 'admin API: send Bearer <keyId>:<secret>');
    req.apiKey = key;
  };

  await app.register(async (api) => {
    api.addHook('onRequest', authenticate);

    api.get('/api/admin/rooms', async () => ({ rooms: opts.rooms.list() }));

    api.post('/api/admin/rooms', async (req, reply) => {
      const body = parse(createRoomBody, req.body ?? {});
      const created = await opts.rooms.create(body, `api-key:${req.apiKey?.id ?? ''}`);
      return reply.status(201).send(created);
    });

    api.delete('/api/admin/rooms/:roomId', async (req, reply) => {
      const { roomId } = parse(roomParams, req.params);
      await opts.rooms.close(roomId);
      return reply.status(204).send();
    });

    api.get('/api/admin/rooms/:roomId/participants', async (req) => {
      const { roomId } = parse(roomParams, req.params);
      return { participants: await opts.rooms.participants(roomId) };
    });

    api.post('/api/admin/rooms/:roomId/participants/:peerId/mute', async (req) => {
      const { roomId, peerId } = parse(participantParams, req.params);
      parse(emptyBody, req.body ?? {});
      return { paused: await opts.rooms.mute(roomId, peerId) };
    });

    api.delete('/api/admin/rooms/:roomId/participants/:peerId', async (req, reply) => {
      const { roomId, peerId } = parse(participantParams, req.params);
      await opts.rooms.remove(roomId, peerId);
      return reply.status(204).send();
    });

    api.post('/api/admin/tokens', async (req, reply) => {
      const body = parse(mintTokenBody, req.body ?? {});
      await opts.rooms.participants(body.room); // ROOM_NOT_FOUND before a token for nothing
      const keyId = req.apiKey?.id ?? '';
      const signingKey = await opts.keys.signingKey(keyId);
      if (!signingKey) throw new TuttiError('UNAUTHORIZED', 'admin API: the key was revoked');
      const now = Date.now();
      const token = signJoinToken(keyId, signingKey, {
        identity: body.identity,
        name: body.name,
        room: body.room,
        role: body.role,
        ttlSeconds: body.ttlSeconds,
        now,
      });
      return reply
        .status(201)
        .send({ token, expiresAt: (Math.floor(now / 1000) + body.ttlSeconds) * 1000 });
    });
  });
};
