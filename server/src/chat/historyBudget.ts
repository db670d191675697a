import type { ChatMessage } from '@tutti/protocol';
import type { HistoryPage } from '../store/chatStore.ts';

/**
 * Trims a history page (oldest first) to about `maxBytes` of JSON, keeping the newest
 * messages: the client's next `before` cursor (its oldest message) then picks up exactly
 * where this page stopped, and `hasMore` says there is more. At least one message stays,
 * so paging always moves on.
 */
export function fitHistoryPage(page: HistoryPage, maxBytes: number): HistoryPage {
  let bytes = 0;
  let keepFrom = page.messages.length;
  while (keepFrom > 0) {
    const size = jsonBytes(page.messages[keepFrom - 1]!);
    if (bytes + size > maxBytes && keepFrom < page.messages.length) break;
    bytes += size;
    keepFrom--;
  }
  if (keepFrom === 0) return page;
  return { messages: page.messages.slice(keepFrom), hasMore: true };
}

function jsonBytes(message: ChatMessage): number {
  // Separators between messages are noise next to a message; the string is thrown away.
  return Buffer.byteLength(JSON.stringify(message)) + 1;
}
