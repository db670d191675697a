import type { ChatMessage } from '@tutti/protocol';
import { SvelteMap } from 'svelte/reactivity';

/**
 * Chat messages keyed by message id, listed in server order (`seq`). Join history, live
 * `chat.message` notifications, our own sends and older pages all merge here by id, so a
 * message is never shown twice. Shape: docs/client.md.
 */
export class ChatStore {
  readonly byId = new SvelteMap<string, ChatMessage>();
  /** More history exists before the oldest message (a `chat.history` page said so). */
  hasMore = $state(false);
  /** Every message, oldest first. */
  readonly list = $derived([...this.byId.values()].sort((a, b) => a.seq - b.seq));
  #listeners = new Set<(message: ChatMessage) => void>();

  get oldest(): ChatMessage | undefined {
    return this.list[0];
  }

  /** Merges messages we may already have (history pages, a rejoin's history). */
  merge(messages: ChatMessage[]): void {
    for (const m of messages) if (!this.byId.has(m.id)) this.byId.set(m.id, m);
  }

  /**
   * The room's latest page, read again because what we hold may have a gap: what is older
   * than the page goes (paging back with `before` fills it in, contiguous), the rest merges.
   */
  rebase(messages: ChatMessage[], hasMore: boolean): void {
    const oldest = messages[0];
    if (oldest && hasMore) {
      for (const [id, m] of this.byId) if (m.seq < oldest.seq) this.byId.delete(id);
    }
    this.merge(messages);
    this.hasMore = hasMore;
  }

  /** A new message (live or our own); listeners hear about it once. */
  add(message: ChatMessage): void {
    if (this.byId.has(message.id)) return;
    this.byId.set(message.id, message);
    for (const listener of [...this.#listeners]) listener(message);
  }

  /** Called for every new message (the room view counts unread ones). */
  onMessage(listener: (message: ChatMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
