import type { ChatMessage } from '@tutti/protocol';
import type { ChatBus } from './ChatBus.ts';

/** In-process bus: delivers synchronously, so publish order is delivery order. */
export class LocalChatBus implements ChatBus {
  readonly #handlers = new Set<(message: ChatMessage) => void>();

  async publish(message: ChatMessage): Promise<void> {
    for (const handler of this.#handlers) handler(message);
  }

  subscribe(handler: (message: ChatMessage) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
  }
}
