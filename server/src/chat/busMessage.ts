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

/** The message in a bus payload, or why it was dropped. */
export function parseBusMessage(payload: string): ChatMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return 'invalid JSON';
  }
  const parsed = busMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : 'not a chat message';
}
