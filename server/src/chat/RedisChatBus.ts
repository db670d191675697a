import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TuttiError, type ChatMessage } from '@tutti/protocol';
import { silentLogger, type Logger } from '../kernel/log.ts';
import { connectRedis, quitRedis } from '../kernel/redis.ts';
import { busKey, openBusMessage, sealBusMessage } from './busMessage.ts';
import type { ChatBus } from './ChatBus.ts';

export interface RedisChatBusOptions {
  channel?: string;
  log?: Logger;
  /**
   * The cluster secret every node shares (files.secret): messages are signed with it and
   * unsigned or badly signed ones are dropped. Absent: a random key, so this node accepts
   * only its own messages (a single node; a cluster must share one).
   */
  secret?: string | undefined;
  /** Every command settles within this (redis.commandTimeoutMs). */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * The PUBLISHes of one tick (a batch's messages) leave in one write to Redis instead of
   * one syscall each (default true; false is bench:chat's baseline).
   */
  coalesceWrites?: boolean;
}

/**
 * Redis pub/sub bus for a cluster. One channel for all rooms keeps ordering simple: Redis
 * delivers a connection's publishes in order, and every node filters by its own members.
 * Subscribing needs a connection of its own (a subscribed ioredis client can't publish).
 */
export class RedisChatBus implements ChatBus {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #channel: string;
  readonly #key: Buffer;
  readonly #timeoutMs: number;
  readonly #handlers = new Set<(message: ChatMessage) => void>();
  readonly #ready: Promise<unknown>;
  readonly #coalesce: boolean;
  /** The publisher's socket is corked until the end of this tick. */
  #corked = false;

  constructor(url: string, opts: RedisChatBusOptions = {}) {
    this.#channel = opts.channel ?? 'tutti:cluster:chat';
    this.#key = busKey(opts.secret ?? randomBytes(32));
    this.#timeoutMs = opts.commandTimeoutMs ?? 1000;
    this.#coalesce = opts.coalesceWrites ?? true;
    const log = opts.log ?? silentLogger;
    // Nothing can hang: every command times out, none is retried after a cut, and the
    // publisher has no offline queue (while Redis is away, publish fails at once).
    const settings = {
      url,
      commandTimeoutMs: this.#timeoutMs,
      connectTimeoutMs: opts.connectTimeoutMs ?? 2000,
    };
    this.#pub = connectRedis(settings, log, 'publisher', { label: 'chat bus' });
    // The subscriber queues its SUBSCRIBE until connected (bounded by the timeout) and
    // renews it after every reconnection.
    this.#sub = connectRedis(settings, log, 'subscriber', {
      label: 'chat bus',
      offlineQueue: true,
      autoResubscribe: true,
    });
    this.#sub.on('message', (channel: string, payload: string) => {
      if (channel !== this.#channel) return;
      // Validated like any input, and signed: anyone who reaches Redis can publish, only a
      // node with the cluster secret can sign. A bad payload is dropped, never thrown.
      const message = openBusMessage(payload, this.#key);
      if (typeof message === 'string') {
        log.warn({ reason: message, bytes: payload.length }, 'dropped a chat bus message');
        return;
      }
      for (const handler of this.#handlers) handler(message);
    });
    this.#ready = Promise.all([
      this.#sub.subscribe(this.#channel),
      new Promise<void>((resolve) => {
        if (this.#pub.status === 'ready') resolve();
        else this.#pub.once('ready', () => resolve());
      }),
    ]);
    // A start-up failure is reported by ready(); never as an unhandled rejection.
    this.#ready.catch(() => {});
  }

  /** Resolves once this node receives the channel; publishes before that could be missed. */
  ready(): Promise<void> {
    return this.#ready.then(() => undefined);
  }

  async publish(message: ChatMessage): Promise<void> {
    this.#corkForTick();
    try {
      await this.#pub.publish(this.#channel, sealBusMessage(message, this.#key));
    } catch (err) {
      throw new TuttiError(
        'UNAVAILABLE',
        `chat fan-out is unavailable (Redis: ${(err as Error).message}); try again shortly`,
      );
    }
  }

  /**
   * ioredis writes each command to its socket at once; corked, the commands of this tick
   * (in order, on the one connection) go out in one writev on process.nextTick — before
   * the event loop moves on, so no publish waits for I/O it would not have waited for.
   * Disconnected, the socket is not written (publish fails at once, as before).
   */
  #corkForTick(): void {
    if (!this.#coalesce || this.#corked || this.#pub.status !== 'ready') return;
    const socket = this.#pub.stream;
    this.#corked = true;
    socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      socket.uncork();
    });
  }

  subscribe(handler: (message: ChatMessage) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
    await Promise.all([
      quitRedis(this.#sub, this.#timeoutMs),
      quitRedis(this.#pub, this.#timeoutMs),
    ]);
  }
}
