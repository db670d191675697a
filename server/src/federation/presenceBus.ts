import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  connectRedis,
  quitRedis,
  type LocalClusterHub,
  type RedisSettings,
} from '../cluster/index.ts';
import { dropLogger } from '../cluster/dropLog.ts';
import type { Logger } from '../kernel/log.ts';
import {
  openPresence,
  presenceKey,
  sealPresence,
  type PresenceEvent,
  type PresenceMessage,
} from './presenceEvents.ts';

/** How bus payloads travel: a Redis channel, or the in-process hub (tests, a single node). */
interface BusWire {
  send(raw: string): Promise<unknown>;
  listen(onMessage: (raw: string) => void): Promise<void>;
  /** Called after the wire came back from an outage (messages may have been missed). */
  onRecovered(fn: () => void): void;
  close(): Promise<void>;
}

export interface PresenceBusOptions {
  nodeId: string;
  log: Logger;
  /** The cluster secret (files.secret); absent: a random key (this node hears only itself). */
  secret?: string | undefined;
  /** Set: the bus is the Redis channel `<prefix>presence`. Else the hub's. */
  redis?: (RedisSettings & { prefix: string }) | undefined;
  hub?: LocalClusterHub | undefined;
}

/**
 * One channel for every room's presence events, each signed and validated on arrival:
 * garbage, forgeries and messages from this node itself are dropped (the first two logged,
 * at most once a second). Publishing never throws: a lost event is repaired by snapshots.
 */
export class PresenceBus {
  readonly #nodeId: string;
  readonly #key: Buffer;
  readonly #wire: BusWire;
  readonly #dropped: (reason: string, detail?: object) => void;
  readonly #failed: (reason: string, detail?: object) => void;
  readonly #handlers = new Set<(message: PresenceMessage) => void>();

  constructor(opts: PresenceBusOptions) {
    this.#nodeId = opts.nodeId;
    this.#key = presenceKey(opts.secret ?? randomBytes(32));
    this.#dropped = dropLogger(opts.log);
    const failLog = dropLogger(opts.log);
    this.#failed = (reason, detail) => failLog(`presence not published: ${reason}`, detail);
    this.#wire = opts.redis
      ? redisWire(opts.redis, opts.log)
      : hubWire(opts.hub ?? failNoHub(), 'presence-bus');
  }

  /** Resolves once subscribed (or throws after the connect timeout; it keeps trying). */
  start(): Promise<void> {
    return this.#wire.listen((raw) => this.#receive(raw));
  }

  publish(event: PresenceEvent): void {
    const payload = sealPresence({ v: 1, from: this.#nodeId, event }, this.#key);
    this.#wire.send(payload).catch((err: unknown) => {
      this.#failed((err as Error).message, { type: event.type, roomId: event.roomId });
    });
  }

  subscribe(handler: (message: PresenceMessage) => void): void {
    this.#handlers.add(handler);
  }

  onRecovered(fn: () => void): void {
    this.#wire.onRecovered(fn);
  }

  /** Feeds a raw payload as if it came off the wire (tests: forged messages). */
  receiveRaw(raw: string): void {
    this.#receive(raw);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
    await this.#wire.close();
  }

  #receive(raw: string): void {
    if (raw.length > 256 * 1024) return this.#dropped('too large', { bytes: raw.length });
    const message = openPresence(raw, this.#key);
    if (typeof message === 'string') return this.#dropped(message, { bytes: raw.length });
    if (message.from === this.#nodeId) return; // Our own echo.
    for (const handler of this.#handlers) {
      try {
        handler(message);
      } catch (err) {
        this.#dropped('handler failed', { err, type: message.event.type });
      }
    }
  }
}

function failNoHub(): never {
  throw new Error('PresenceBus: neither redis nor a hub');
}

function hubWire(hub: LocalClusterHub, channel: string): BusWire {
  const transport = hub.transport();
  return {
    send: async (raw) => hub.inject(channel, raw),
    listen: (fn) => transport.listen(channel, fn),
    onRecovered: () => {},
    close: () => transport.close(),
  };
}

/** A publisher and a subscriber (a subscribed connection can't publish), both fail-fast. */
function redisWire(settings: RedisSettings & { prefix: string }, log: Logger): BusWire {
  const channel = `${settings.prefix}presence`;
  const pub: Redis = connectRedis(settings, log, 'presence publisher', { label: 'presence bus' });
  const sub: Redis = connectRedis(settings, log, 'presence subscriber', {
    label: 'presence bus',
    offlineQueue: true,
    autoResubscribe: true,
  });
  const recovered = new Set<() => void>();
  let readyOnce = false;
  sub.on('ready', () => {
    if (readyOnce) for (const fn of recovered) fn();
    readyOnce = true;
  });
  return {
    send: (raw) => pub.publish(channel, raw),
    listen: (fn) => {
      sub.on('message', (from: string, raw: string) => {
        if (from === channel) fn(raw);
      });
      const timeoutMs = (settings.connectTimeoutMs ?? 2000) + 1000;
      return withTimeout(
        sub.subscribe(channel).then(() => undefined),
        timeoutMs,
        channel,
      );
    },
    onRecovered: (fn) => recovered.add(fn),
    close: async () => {
      const ms = settings.commandTimeoutMs ?? 1000;
      await Promise.all([quitRedis(sub, ms), quitRedis(pub, ms)]);
    },
  };
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`could not subscribe to ${what}`)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
