import type { ChatMessage } from '@tutti/protocol';
import type { ChatBus } from './ChatBus.ts';

/** The bus's publish, bounded by `timeoutMs` (a bus that hangs fails the send, it never holds it). */
export function publishWithin(
  bus: ChatBus,
  message: ChatMessage,
  timeoutMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('chat bus publish timed out')), timeoutMs);
  });
  let publish: Promise<void>;
  try {
    publish = bus.publish(message);
  } catch (err) {
    publish = Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  return Promise.race([publish, timeout]).finally(() => clearTimeout(timer));
}
