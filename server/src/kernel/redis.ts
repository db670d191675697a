import { Redis } from 'ioredis';
import type { Logger } from '../kernel/log.ts';

export interface RedisSettings {
  url: string;
  /** Every command settles within this (ioredis `commandTimeout`): a frozen Redis cannot hang us. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** How one connection departs from the fail-fast defaults, and how its log lines are labelled. */
export interface RedisConnectionOptions {
  /** The log lines' prefix ("cluster: redis connection error"). Default: cluster. */
  label?: string;
  /** Queue commands while disconnected (bounded by commandTimeoutMs) instead of failing them. */
  offlineQueue?: boolean;
  /** Let ioredis renew subscriptions after a reconnection (else their owner does, on 'ready'). */
  autoResubscribe?: boolean;
}

/**
 * An ioredis connection that fails fast instead of waiting: no offline queue (a command while
 * disconnected rejects at once), no retries of a command cut off mid-flight, a timeout on every
 * command, and reconnection for ever with a capped back-off so the node recovers by itself.
 * Going down and coming back are logged once each.
 */
export function connectRedis(
  settings: RedisSettings,
  log: Logger,
  role: string,
  options: RedisConnectionOptions = {},
): Redis {
  const label = options.label ?? 'cluster';
  const redis = new Redis(settings.url, {
    commandTimeout: settings.commandTimeoutMs ?? 1000,
    connectTimeout: settings.connectTimeoutMs ?? 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: options.offlineQueue ?? false,
    // Subscriptions are renewed on every 'ready' by their owner (see RedisTransport).
    autoResubscribe: options.autoResubscribe ?? false,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) log.warn({ err: err.message, role }, `${label}: redis connection error`);
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info({ role }, `${label}: redis connection back`);
    down = false;
  });
  return redis;
}

/** A Lua script run by EVALSHA, loaded again after a Redis restart (NOSCRIPT). */
export function luaScript(
  lua: string,
): (redis: Redis, keys: string[], args: (string | number)[]) => Promise<unknown> {
  let sha: string | undefined;
  return async (redis, keys, args) => {
    sha ??= (await redis.script('LOAD', lua)) as string;
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(lua, keys.length, ...keys, ...args);
    }
  };
}

/** Waits for a connection to be usable, at most `ms`; resolves whether it is. */
export function whenReady(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(false), ms);
    redis.once('ready', onReady);
  });
}

/**
 * Says goodbye to Redis (QUIT) but waits at most `ms` for it: a frozen or unreachable Redis
 * must not hold a shutdown. The socket is closed either way, so nothing keeps the process up.
 */
export async function quitRedis(redis: Redis, ms = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    redis.quit().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]).finally(() => {
    clearTimeout(timer);
    redis.disconnect();
  });
}
