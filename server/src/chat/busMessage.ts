import { z } from 'zod';
import type { ChatMessage } from '@tutti/protocol';
import { deriveKey, parseJson, seal, unseal } from '../kernel/sealed.ts';
import { safeParseInput } from '@tutti/protocol/schemas';

const who = z.object({ peerId: z.string(), nickname: z.string() });

const file = z.object({
  id: z.string(),
  name: z.string(),
  size: z.number(),
  type: z.string(),
  url: z.string(),
  previewUrl: z.string().optional(),
});

/** A stored chat message as another node published it (the bus is input like any other). */
const busMessageSchema: z.ZodType<ChatMessage> = z.object({
  id: z.string(),
  seq: z.number(),
  roomId: z.string(),
  from: who,
  to: who.optional(),
  text: z.string(),
  createdAt: z.number(),
  file: file.optional(),
});

/**
 * The bus key, derived from the cluster secret (files.secret, which every node shares): a
 * key of its own, so a bus signature can never stand in for a file token or the reverse.
 */
export function busKey(secret: string | Buffer): Buffer {
  return deriveKey(secret, 'chat bus v1');
}

/** The payload to publish: anyone who can reach Redis can publish, only nodes can sign. */
export function sealBusMessage(message: ChatMessage, key: Buffer): string {
  return seal(message, key);
}

/** The message in a signed bus payload, or why it was dropped. */
export function openBusMessage(payload: string, key: Buffer): ChatMessage | string {
  const opened = unseal(payload, key);
  if (opened === 'not signed') return 'not a signed bus message';
  if (typeof opened === 'string') return opened;
  const parsed = safeParseInput(busMessageSchema, opened.body);
  return parsed.success ? parsed.data : 'not a chat message';
}

/** The message in an (already authenticated) message JSON, or why it was dropped. */
export function parseBusMessage(payload: string): ChatMessage | string {
  const value = parseJson(payload);
  if (value === undefined) return 'invalid JSON';
  const parsed = safeParseInput(busMessageSchema, value);
  return parsed.success ? parsed.data : 'not a chat message';
}
