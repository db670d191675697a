import type { Redis } from 'ioredis';
import { connectRedis, type LocalClusterHub, type RedisSettings } from '../cluster/index.ts';
import type { Logger } from '../kernel/log.ts';
import { luaScript } from '../kernel/redis.ts';

/**
 * Which node runs a room's life (its games, reactions and raised hands): the first node that
 * asks takes the room, and keeps it while the room has members anywhere in the cluster, even
 * none of its own. Taking over from a holder is a compare-and-set against the holder the
 * caller saw gone (out of the registry), so two nodes can never both run one room.
 */
export interface LifeClaims {
  /**
   * The room's holder after the call: `nodeId` when it was free, already ours, or held by
   * `replacing` (a node the caller knows is gone); else the live holder.
   */
  claim(roomId: string, nodeId: string, replacing?: string): Promise<string>;
  /** Gives the room up if `nodeId` holds it (its members are all gone). */
  release(roomId: string, nodeId: string): Promise<void>;
  close(): Promise<void>;
}

/** A claim nobody refreshes (its holder died with the room) expires after a day. */
const TTL_MS = 24 * 3600 * 1000;

const CLAIM = luaScript(`
local key, me, replacing, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cur = redis.call('GET', key)
if (not cur) or cur == me or (replacing ~= '' and cur == replacing) then
  redis.call('SET', key, me, 'PX', ttl)
  return me
end
redis.call('PEXPIRE', key, ttl)
return cur
`);

const RELEASE = luaScript(`
if redis.call('GET', ARGV[1]) == ARGV[2] then redis.call('DEL', ARGV[1]) end
return 1
`);

export function redisLifeClaims(
  settings: RedisSettings & { prefix: string },
  log: Logger,
): LifeClaims {
  const redis: Redis = connectRedis(settings, log, 'room life', { label: 'presence' });
  const key = (roomId: string) => `${settings.prefix}life:${roomId}`;
  return {
    async claim(roomId, nodeId, replacing = '') {
      return String(await CLAIM(redis, [], [key(roomId), nodeId, replacing, TTL_MS]));
    },
    async release(roomId, nodeId) {
      await RELEASE(redis, [], [key(roomId), nodeId]);
    },
    async close() {
      await Promise.race([redis.quit(), new Promise((r) => setTimeout(r, 1000).unref())]).finally(
        () => redis.disconnect(),
      );
    },
  };
}

/** In process: one table per hub, so the "nodes" of a test share it. */
const tables = new WeakMap<LocalClusterHub, Map<string, string>>();

export function localLifeClaims(hub: LocalClusterHub): LifeClaims {
  let table = tables.get(hub);
  if (!table) tables.set(hub, (table = new Map()));
  const holders = table;
  return {
    async claim(roomId, nodeId, replacing) {
      const cur = holders.get(roomId);
      if (cur === undefined || cur === nodeId || (replacing && cur === replacing)) {
        holders.set(roomId, nodeId);
        return nodeId;
      }
      return cur;
    },
    async release(roomId, nodeId) {
      if (holders.get(roomId) === nodeId) holders.delete(roomId);
    },
    async close() {},
  };
}
