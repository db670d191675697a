import { Redis } from 'ioredis';
import type { ChatMessage } from '@tutti/protocol';
import type { ChatBus } from './ChatBus.ts';

/**
 * Redis pub/sub bus for a cluster. One channel for all rooms keeps ordering simple: Redis
 * delivers a connection's publishes in order, and every node filters by its own members.
 * Subscribing needs a connection of its own (a subscribed ioredis client can't publish).
 */
export class RedisChatBus implements ChatBus {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #channel: string;
  readonly #handlers = new Set<(message: ChatMessage) => void>();
  readonly #ready: Promise<unknown>;

  constructor(url: string, opts: { channel?: string } = {}) {
    this.#channel = opts.channel ?? 'tutti:chat';
    this.#pub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    this.#sub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    this.#sub.on('message', (channel: string, payload: string) => {
      if (channel !== this.#channel) return;
      const message = JSON.parse(payload) as ChatMessage;
      for (const handler of this.#handlers) handler(message);
    });
    this.#ready = this.#sub.subscribe(this.#channel);
  }

  /** Resolves once this node receives the channel; publishes before that could be missed. */
  ready(): Promise<void> {
    return this.#ready.then(() => undefined);
  }

  async publish(message: ChatMessage): Promise<void> {
    await this.#pub.publish(this.#channel, JSON.stringify(message));
  }

  subscribe(handler: (message: ChatMessage) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
    await Promise.allSettled([this.#sub.quit(), this.#pub.quit()]);
  }
}
