import { z } from 'zod';
import { createRoomBody, mintTokenBody } from './schemas.ts';

/** JSON Schema of a body, as the route validates it (zod → JSON Schema, draft 2020-12 = OAS 3.1). */
const body = (schema: z.ZodType) => ({
  required: true,
  content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) } },
});

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const refused = {
  '401': error('UNAUTHORIZED: no, a wrong or a revoked API key'),
  '403': error('FORBIDDEN: the client address is not in admin.allowIps'),
};

const roomId = { name: 'roomId', in: 'path', required: true, schema: { type: 'string' } };
const peerId = { name: 'peerId', in: 'path', required: true, schema: { type: 'string' } };

const ok = (description: string, schema?: object) =>
  schema ? { description, content: { 'application/json': { schema } } } : { description };

/** The OpenAPI 3.1 description of the admin API, served at /api/docs/openapi.json. */
export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tutti admin API',
      version: '1',
      description:
        'Authenticate with `Authorization: Bearer <keyId>:<secret>` (an API key from ' +
        '`npm run admin -- keys:create`), from an address in admin.allowIps. See docs/admin-api.md.',
    },
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', bearerFormat: '<keyId>:<secret>' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: { error: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
    paths: {
      '/api/admin/rooms': {
        get: {
          summary: 'List the rooms',
          responses: { '200': ok('{ rooms: RoomSummary[] }'), ...refused },
        },
        post: {
          summary: 'Create a room',
          requestBody: body(createRoomBody),
          responses: {
            '201': ok('{ room: RoomSummary, ownerSecret }'),
            '400': error('INVALID_REQUEST'),
            '409': error('ROOM_NAME_TAKEN'),
            ...refused,
          },
        },
      },
      '/api/admin/rooms/{roomId}': {
        delete: {
          summary: 'Close (delete) a room: its members are told room.closed and disconnected',
          parameters: [roomId],
          responses: { '204': ok('closed'), '404': error('ROOM_NOT_FOUND'), ...refused },
        },
      },
      '/api/admin/rooms/{roomId}/participants': {
        get: {
          summary: "List a room's participants (on every node of the cluster)",
          parameters: [roomId],
          responses: {
            '200': ok('{ participants: PeerInfo[] }'),
            '404': error('ROOM_NOT_FOUND'),
            ...refused,
          },
        },
      },
      '/api/admin/rooms/{roomId}/participants/{peerId}': {
        delete: {
          summary: 'Remove a participant (told moderation.removed, as by a moderator)',
          parameters: [roomId, peerId],
          responses: {
            '204': ok('removed'),
            '404': error('ROOM_NOT_FOUND / NOT_FOUND'),
            ...refused,
          },
        },
      },
      '/api/admin/rooms/{roomId}/participants/{peerId}/mute': {
        post: {
          summary: "Pause the participant's microphone on the server (told moderation.muted)",
          parameters: [roomId, peerId],
          responses: {
            '200': ok('{ paused: string[] } (producer ids)'),
            '404': error('ROOM_NOT_FOUND / NOT_FOUND'),
            ...refused,
          },
        },
      },
      '/api/admin/tokens': {
        post: {
          summary: 'Mint a join token signed with the calling API key',
          requestBody: body(mintTokenBody),
          responses: {
            '201': ok('{ token, expiresAt }'),
            '400': error('INVALID_REQUEST'),
            '404': error('ROOM_NOT_FOUND'),
            ...refused,
          },
        },
      },
    },
  };
}
