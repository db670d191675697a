import { z } from 'zod';
import { ROLES } from '@tutti/protocol';
import { idSchema, nicknameSchema, requestSchemas } from '@tutti/protocol/schemas';

/** The admin API's bodies and path parameters (validated by the routes, described by openapi.ts). */
export const createRoomBody = requestSchemas['room.create'];

export const mintTokenBody = z
  .object({
    room: idSchema.describe('the room id'),
    identity: z.string().min(1).max(128).describe('your id for this person (the token `sub`)'),
    name: nicknameSchema.optional().describe('the nickname shown (default: the identity)'),
    role: z.enum(ROLES).default('participant'),
    ttlSeconds: z.number().int().min(1).max(86_400).default(3600),
  })
  .strict();

export const emptyBody = z.object({}).strict();

export const roomParams = z.object({ roomId: idSchema }).strict();
export const participantParams = z.object({ roomId: idSchema, peerId: idSchema }).strict();
