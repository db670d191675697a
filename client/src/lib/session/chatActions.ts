import type { ChatStore } from '../state/chat.svelte.ts';
import type { Signaling } from '../signaling.ts';

const HISTORY_PAGE = 100;

/** Sending chat messages and paging back through the room's history. */
export class ChatActions {
  constructor(
    private readonly signaling: Signaling,
    private readonly chat: ChatStore,
  ) {}

  /** Sends to the room, or privately to one peer (`to`). Rejects with the server's error. */
  async send(text: string, to: string | null): Promise<void> {
    const { message } = await this.signaling.request('chat.send', {
      text,
      ...(to ? { to } : {}),
    });
    this.chat.add(message);
  }

  async loadOlder(): Promise<void> {
    const oldest = this.chat.oldest;
    const { messages, hasMore } = await this.signaling.request('chat.history', {
      ...(oldest ? { before: oldest.id } : {}),
      limit: HISTORY_PAGE,
    });
    this.chat.merge(messages);
    this.chat.hasMore = hasMore;
  }
}
