import { Redis } from 'ioredis';
import type { ChatMessage } from '@tutti/protocol';
import { silentLogger, type Logger } from '../kernel/log.ts';
import { parseBusMessage } from './busMessage.ts';
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

  constructor(url: string, opts: { channel?: string; log?: Logger } = {}) {
    this.#channel = opts.channel ?? 'tutti:chat';
    const log = opts.log ?? silentLogger;
    // Bounded: a Redis that stops answering fails chat.send instead of hanging it.
    const options = { lazyConnect: false, maxRetriesPerRequest: 3, connectTimeout: 5_000 };
    this.#pub = new Redis(url, { ...options, commandTimeout: 5_000 });
    this.#sub = new Redis(url, options);
    this.#sub.on('message', (channel: string, payload: string) => {
      if (channel !== this.#channel) return;
      // Validated like any input: a bad payload is dropped, never thrown into ioredis.
      const message = parseBusMessage(payload);
      if (typeof message === 'string') {
        log.warn({ reason: message, bytes: payload.length }, 'dropped a chat bus message');
        return;
      }
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
