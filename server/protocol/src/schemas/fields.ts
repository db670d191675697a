import { z } from 'zod';
import { MEDIA_SOURCES } from '../common.ts';
import { stripUnsafeText } from '../text.ts';

/** Field schemas shared by the protoo requests and the HTTP API. */

/** Text other people see (room names, nicknames): unsafe characters stripped, then trimmed. */
const displayText = () => z.string().overwrite(stripUnsafeText).trim();

export const roomNameSchema = displayText()
  .min(1, 'room name must not be empty')
  .max(64, 'room name is at most 64 characters');

export const nicknameSchema = displayText()
  .min(1, 'nickname must not be empty')
  .max(32, 'nickname is at most 32 characters');

export const roomPasswordSchema = z.string().min(1).max(128);
export const ownerSecretSchema = z.string().min(1).max(128);
export const capacitySchema = z.number().int().min(2).max(1000);
export const idSchema = z.string().min(1).max(64);
/** A compact JWS (header.payload.signature, base64url); verified by the server. */
export const joinTokenSchema = z
  .string()
  .max(4096)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'not a join token');
export const mediaSourceSchema = z.enum(MEDIA_SOURCES);
/**
 * A resume token: 32 random bytes, base64url (43 characters), then `.` and the issuing node's
 * id in base64url (a cluster asks that node to hand the membership over; docs/reconnect.md).
 */
export const resumeTokenSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}(\.[A-Za-z0-9_-]{1,172})?$/, 'malformed resume token');
/** A chat idempotency key: what a client generates (a UUID fits). */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'key: 8-64 characters of [A-Za-z0-9_-]');
