import type { ChatMessage } from '@tutti/protocol';

/** A message as the store keeps it; `seq` orders messages and backs the id cursor. */
export type NewChatMessage = Omit<ChatMessage, 'id' | 'seq'>;

export interface HistoryPage {
  /** Oldest first. */
  messages: ChatMessage[];
  hasMore: boolean;
}

/**
 * Durable chat history. Small on purpose so the shared (cluster) PostgreSQL implementation
 * sits beside the embedded SQLite one and passes the same tests. An outage rejects with
 * STORE_UNAVAILABLE within the store's timeouts.
 */
export interface ChatStore {
  /** Stores a message and returns it with its id and seq assigned. */
  append(message: NewChatMessage): Promise<ChatMessage>;
  /**
   * Stores a message once per (room, sender, idempotency key): when that key was stored
   * before, nothing is written and the earlier message comes back (`created: false`).
   */
  appendOnce(
    message: NewChatMessage,
    key: string,
  ): Promise<{ message: ChatMessage; created: boolean }>;
  /** The message a sender stored under an idempotency key in a room, if any. */
  findByKey(roomId: string, fromPeerId: string, key: string): Promise<ChatMessage | undefined>;
  /**
   * The newest `limit` messages of a room that `viewerPeerId` may see (public ones plus
   * private ones it sent or received), older than the `before` message id when given.
   */
  page(
    roomId: string,
    viewerPeerId: string,
    opts: { before?: string; limit: number },
  ): Promise<HistoryPage>;
  /** The file message that announced a shared file, to serve its download. */
  findFile(roomId: string, fileId: string): Promise<ChatMessage | undefined>;
  /** Removes one message (a message whose delivery failed is withdrawn). */
  delete(roomId: string, id: string): Promise<void>;
  deleteRoom(roomId: string): Promise<void>;
  close(): Promise<void>;
}
