import type { ChatStore } from '../state/chat.svelte.ts';
import type { Signaling } from '../signaling.ts';
import { ChatOutbox } from './outbox.svelte.ts';

const HISTORY_PAGE = 100;

/** Sending chat messages (through the outbox) and paging back through the room's history. */
export class ChatActions {
  /** Messages typed but not acknowledged yet; sent again after a reconnect. */
  readonly outbox: ChatOutbox;

  constructor(
    private readonly signaling: Signaling,
    private readonly chat: ChatStore,
  ) {
    this.outbox = new ChatOutbox(signaling, (message) => chat.add(message));
  }

  /**
   * Sends to the room, or privately to one peer (`to`). Resolves once delivered or queued
   * for after a reconnect; rejects with the server's error when it refused the message.
   */
  send(text: string, to: string | null): Promise<void> {
    return this.outbox.send(text, to);
  }

  /** After a reconnect: messages the dead socket may have swallowed, then the outbox. */
  async caughtUp(): Promise<void> {
    const { messages } = await this.signaling.request('chat.history', { limit: HISTORY_PAGE });
    this.chat.merge(messages);
    await this.outbox.flush();
  }

  /** `chat.gap`: the server could not catch us up after a resume: read the history again. */
  bind(): (() => void)[] {
    return [this.signaling.on('chat.gap', () => void this.reread().catch(() => undefined))];
  }

  /** The latest page, and paging back from it (what we held before it may have a gap). */
  async reread(): Promise<void> {
    const { messages, hasMore } = await this.signaling.request('chat.history', {
      limit: HISTORY_PAGE,
    });
    this.chat.rebase(messages, hasMore);
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
