import type { Redis } from 'ioredis';
import type { RegistryEntry, RegistryStore } from './NodeRegistry.ts';
import { luaScript } from '../kernel/redis.ts';

// Last-seen times come from Redis's own clock (TIME inside the script), so skew between the
// nodes' clocks cannot make a live node look dead. KEYS: [seen zset, info hash].

const BEAT = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local replaced = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return replaced`);

const SCAN = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
local seen = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #seen, 2 do
  local raw = redis.call('HGET', KEYS[2], seen[i]) or ''
  table.insert(out, seen[i])
  table.insert(out, tostring(now - tonumber(seen[i + 1])))
  table.insert(out, raw)
end
return out`);

const REMOVE = luaScript(`
local n = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return n`);

export class RedisRegistryStore implements RegistryStore {
  readonly #redis: Redis;
  readonly #keys: string[];

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#keys = [`${prefix}nodes:seen`, `${prefix}nodes:info`];
  }

  async beat(info: { nodeId: string }): Promise<string | null> {
    const replaced = await BEAT(this.#redis, this.#keys, [info.nodeId, JSON.stringify(info)]);
    return typeof replaced === 'string' ? replaced : null;
  }

  async scan(): Promise<RegistryEntry[]> {
    const flat = (await SCAN(this.#redis, this.#keys, [])) as string[];
    const entries: RegistryEntry[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      entries.push({ nodeId: flat[i]!, ageMs: Number(flat[i + 1]), raw: flat[i + 2]! });
    }
    return entries;
  }

  async remove(nodeId: string): Promise<boolean> {
    return (await REMOVE(this.#redis, this.#keys, [nodeId])) === 1;
  }
}
