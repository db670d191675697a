import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ChatMessage } from '@tutti/protocol';

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

/** What goes on the wire: the message's JSON and its HMAC-SHA256, hex. */
const envelopeSchema = z.object({ m: z.string(), s: z.string().regex(/^[0-9a-f]{64}$/) });

/**
 * The bus key, derived from the cluster secret (files.secret, which every node shares): a
 * key of its own, so a bus signature can never stand in for a file token or the reverse.
 */
export function busKey(secret: string | Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'tutti', 'chat bus v1', 32));
}

const mac = (key: Buffer, body: string): Buffer => createHmac('sha256', key).update(body).digest();

/** The payload to publish: anyone who can reach Redis can publish, only nodes can sign. */
export function sealBusMessage(message: ChatMessage, key: Buffer): string {
  const m = JSON.stringify(message);
  return JSON.stringify({ m, s: mac(key, m).toString('hex') });
}

/** The message in a signed bus payload, or why it was dropped. */
export function openBusMessage(payload: string, key: Buffer): ChatMessage | string {
  const envelope = envelopeSchema.safeParse(parseJson(payload));
  if (!envelope.success) return 'not a signed bus message';
  const { m, s } = envelope.data;
  if (!timingSafeEqual(mac(key, m), Buffer.from(s, 'hex'))) return 'bad signature';
  return parseBusMessage(m);
}

/** The message in an (already authenticated) message JSON, or why it was dropped. */
export function parseBusMessage(payload: string): ChatMessage | string {
  const value = parseJson(payload);
  if (value === undefined) return 'invalid JSON';
  const parsed = busMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : 'not a chat message';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
