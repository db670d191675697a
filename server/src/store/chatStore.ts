import type { ChatMessage } from '@tutti/protocol';

/** A message as the store keeps it; `seq` orders messages and backs the id cursor. */
export type NewChatMessage = Omit<ChatMessage, 'id' | 'seq'>;

/** One message to store; with a key it is stored once per (room, sender, key), as appendOnce. */
export interface AppendRequest {
  message: NewChatMessage;
  key?: string | undefined;
}

/** What append (created: true) or appendOnce answers for one message. */
export interface AppendResult {
  message: ChatMessage;
  created: boolean;
}

/** The most messages one appendBatch call takes (the chat service's group commit size). */
export const MAX_APPEND_BATCH = 100;

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
  /**
   * Group commit: stores up to MAX_APPEND_BATCH messages in one round trip and one commit,
   * in request order (their seqs ascend in that order). Each answer is the one append or
   * appendOnce would have given it, one after another: a key stored before, or earlier in
   * the same batch, gives the earlier message with `created: false`. Rejects as a whole,
   * nothing of the batch kept, when the write fails; a settled `rejected` entry means only
   * that message's answer could not be read (its write may have been another node's).
   */
  appendBatch(requests: readonly AppendRequest[]): Promise<PromiseSettledResult<AppendResult>[]>;
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
