import type { Redis } from 'ioredis';
import type { Logger } from '../kernel/log.ts';
import { ClusterError } from './errors.ts';
import { connectRedis, quitRedis, type RedisSettings } from '../kernel/redis.ts';
import type { RpcTransport } from './Rpc.ts';

/**
 * One pub/sub channel per node. PUBLISH answers how many subscribers got the message, so a
 * request to a node that is not listening fails at once rather than at its timeout.
 * Subscribing takes a connection of its own, renewed on every reconnect.
 */
export class RedisTransport implements RpcTransport {
  readonly #pub: Redis;
  readonly #settings: RedisSettings;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #subs: Redis[] = [];

  constructor(pub: Redis, settings: RedisSettings, prefix: string, log: Logger) {
    this.#pub = pub;
    this.#settings = settings;
    this.#prefix = prefix;
    this.#log = log;
  }

  channel(nodeId: string): string {
    return `${this.#prefix}rpc:${nodeId}`;
  }

  send(nodeId: string, raw: string): Promise<number> {
    return this.#pub.publish(this.channel(nodeId), raw);
  }

  /** Resolves once subscribed, or rejects after the connect timeout (and keeps trying). */
  listen(nodeId: string, onMessage: (raw: string) => void): Promise<void> {
    const channel = this.channel(nodeId);
    const sub = connectRedis(this.#settings, this.#log, `rpc subscriber ${nodeId}`);
    this.#subs.push(sub);
    sub.on('message', (from: string, raw: string) => {
      if (from === channel) onMessage(raw);
    });
    return new Promise((resolve, reject) => {
      const timeoutMs = (this.#settings.connectTimeoutMs ?? 2000) + 1000;
      const timer = setTimeout(
        () => reject(new ClusterError('UNAVAILABLE', `could not subscribe to ${channel}`)),
        timeoutMs,
      );
      const subscribe = (): void => {
        sub.subscribe(channel).then(
          () => {
            clearTimeout(timer);
            resolve();
          },
          (err: unknown) => this.#log.warn({ err, channel }, 'cluster: subscribe failed'),
        );
      };
      sub.on('ready', subscribe);
      if (sub.status === 'ready') subscribe();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#subs.splice(0).map((s) => quitRedis(s)));
  }
}
