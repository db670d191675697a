import type { ChatMessage } from '@tutti/protocol';

/**
 * Fan-out of stored messages to every node that has members of the room. The node that
 * stores a message publishes it; every node (itself included) delivers it to its own
 * sockets. One process uses LocalChatBus, a cluster RedisChatBus: same code path.
 */
export interface ChatBus {
  publish(message: ChatMessage): Promise<void>;
  /** Returns an unsubscribe function. Handlers get messages in publish order. */
  subscribe(handler: (message: ChatMessage) => void): () => void;
  close(): Promise<void>;
}
