import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TuttiError } from '@tutti/protocol';
import {
  capacitySchema,
  idSchema,
  ownerSecretSchema,
  parseOrThrow as parse,
  requestSchemas,
  roomNameSchema,
  roomPasswordSchema,
  safeParseInput,
} from '@tutti/protocol/schemas';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';

const patchSchema = z
  .object({
    name: roomNameSchema.optional(),
    password: roomPasswordSchema.nullable().optional(),
    capacity: capacitySchema.nullable().optional(),
  })
  .strict();

function ownerSecret(headers: Record<string, unknown>): string {
  const r = safeParseInput(ownerSecretSchema, headers['x-owner-secret']);
  if (!r.success) throw new TuttiError('FORBIDDEN', 'x-owner-secret header required');
  return r.data;
}

/**
 * REST for rooms (same rules as the protoo requests):
 * GET /api/rooms · POST /api/rooms · PATCH /api/rooms/:id · DELETE /api/rooms/:id
 */
export const roomsHttpPlugin: FastifyPluginAsync<{
  rooms: RoomRegistry;
  /** The signed-in creator's account (its session cookie), who then owns the room. */
  accountOf?: (req: FastifyRequest) => Promise<string | null>;
}> = async (app, { rooms, accountOf }) => {
  app.get('/api/rooms', async () => ({ rooms: rooms.list() }));

  app.get<{ Params: { id: string } }>('/api/rooms/:id', async (req) => {
    const id = parse(idSchema, req.params.id);
    // Cluster-wide count; a room created on another node a moment ago is loaded.
    return { room: rooms.summaryOf(await rooms.find(id)) };
  });

  app.post('/api/rooms', async (req, reply) => {
    const body = parse(requestSchemas['room.create'], req.body ?? {});
    const result = await rooms.create(body, req.ip, (await accountOf?.(req)) ?? null);
    return reply.status(201).send(result);
  });

  app.patch<{ Params: { id: string } }>('/api/rooms/:id', async (req) => {
    const id = parse(idSchema, req.params.id);
    const secret = ownerSecret(req.headers);
    const body = parse(patchSchema, req.body ?? {});
    return { room: await rooms.update(id, secret, req.ip, body) };
  });

  app.delete<{ Params: { id: string } }>('/api/rooms/:id', async (req, reply) => {
    const id = parse(idSchema, req.params.id);
    const secret = ownerSecret(req.headers);
    await rooms.delete(id, secret, req.ip);
    return reply.status(204).send();
  });
};
