import type { Redis } from 'ioredis';
import { z } from 'zod';
import { connectRedis, type LocalClusterHub, type RedisSettings } from '../cluster/index.ts';
import type { Logger } from '../kernel/log.ts';
import { luaScript, quitRedis } from '../kernel/redis.ts';
import { parseJson } from '../kernel/sealed.ts';
import {
  barKey,
  MemoryModerationState,
  type SharedModerationState,
  type WaitingEntry,
} from '../moderation/sharedState.ts';
import { safeParseInput } from '@tutti/protocol/schemas';

// Keys (prefix p = <cluster.redisPrefix>moderation:), per room:
//   p<room>:settings  hash locked|waitingRoom|moderatorsUnmute|signedInOnly → "0"/"1"
//   p<room>:barred    set of "a:<account>" / "ip:<address>"
//   p<room>:mods      set of remembered moderators' accounts
//   p<room>:waiting   hash connection id → JSON { id, nickname, since, nodeId }
//                     (a node that restarts takes its previous life's entries off: node.ts)
// Every command has the connection's commandTimeout: a frozen Redis cannot hold a door shut.

const FLAGS = ['locked', 'waitingRoom', 'moderatorsUnmute', 'signedInOnly'] as const;

/** Onto the list unless it is full; an entry already there keeps its place (new nickname). */
const KNOCK = luaScript(`
local key, id, entry, max = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local cur = redis.call('HGET', key, id)
if cur then
  local known = cjson.decode(cur)
  known.nickname = cjson.decode(entry).nickname
  redis.call('HSET', key, id, cjson.encode(known))
  return 'updated'
end
if redis.call('HLEN', key) >= max then return 'full' end
redis.call('HSET', key, id, entry)
return 'added'
`);

/** Off a room's list: the entries of one node from before a time (its previous life's). */
const RELEASE = luaScript(`
local key, node, before = KEYS[1], ARGV[1], tonumber(ARGV[2])
local all = redis.call('HGETALL', key)
local removed = 0
for i = 1, #all, 2 do
  local ok, e = pcall(cjson.decode, all[i + 1])
  if ok and type(e) == 'table' and e.nodeId == node and tonumber(e.since) and tonumber(e.since) < before then
    redis.call('HDEL', key, all[i])
    removed = removed + 1
  end
end
return removed
`);

/** A Redis glob that matches `text` literally. */
const literalGlob = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');

/** What is read back is input like any other: an entry that does not parse is left out. */
const entrySchema = z.object({
  id: z.string().min(1).max(128),
  nickname: z.string().min(1).max(200),
  since: z.number(),
  nodeId: z.string().min(1).max(200),
});

export function redisModerationState(
  settings: RedisSettings & { prefix: string },
  log: Logger,
): SharedModerationState {
  const redis: Redis = connectRedis(settings, log, 'moderation', { label: 'moderation' });
  const p = `${settings.prefix}moderation:`;
  const key = (roomId: string, what: string) => `${p}${roomId}:${what}`;
  const parseSettings = (hash: Record<string, string>) => {
    if (FLAGS.some((f) => hash[f] === undefined)) return null;
    return Object.fromEntries(FLAGS.map((f) => [f, hash[f] === '1'])) as Record<
      (typeof FLAGS)[number],
      boolean
    >;
  };
  return {
    async door(roomId, who) {
      const multi = redis
        .multi()
        .hgetall(key(roomId, 'settings'))
        .sismember(key(roomId, 'barred'), barKey(who))
        .sismember(key(roomId, 'mods'), who.accountId ?? '');
      const [hash, barred, moderator] = ((await multi.exec()) ?? []).map(([err, value]) => {
        if (err) throw err;
        return value;
      });
      return {
        settings: parseSettings((hash ?? {}) as Record<string, string>),
        barred: barred === 1,
        rememberedModerator: who.accountId !== null && moderator === 1,
      };
    },
    async settings(roomId) {
      return parseSettings(await redis.hgetall(key(roomId, 'settings')));
    },
    async changeSettings(roomId, base, patch) {
      const k = key(roomId, 'settings');
      const flag = (on: boolean | undefined) => (on ? '1' : '0');
      const multi = redis.multi();
      for (const f of FLAGS) multi.hsetnx(k, f, flag(base[f]));
      const fields = FLAGS.filter((f) => patch[f] !== undefined);
      if (fields.length > 0)
        multi.hset(k, Object.fromEntries(fields.map((f) => [f, flag(patch[f])])));
      multi.hgetall(k);
      const rows = (await multi.exec()) ?? [];
      const [err, hash] = rows[rows.length - 1] ?? [new Error('no answer'), null];
      if (err) throw err;
      const now = parseSettings((hash ?? {}) as Record<string, string>);
      if (!now) throw new Error('moderation settings: incomplete after a write');
      return now;
    },
    async bar(roomId, who) {
      await redis.sadd(key(roomId, 'barred'), barKey(who));
    },
    async rememberModerator(roomId, accountId, on) {
      if (on) await redis.sadd(key(roomId, 'mods'), accountId);
      else await redis.srem(key(roomId, 'mods'), accountId);
    },
    async knock(roomId, entry, max) {
      const args = [entry.id, JSON.stringify(entry), max];
      const result = await KNOCK(redis, [key(roomId, 'waiting')], args);
      return result === 'full' || result === 'updated' ? result : 'added';
    },
    async unknock(roomId, ids) {
      if (ids.length > 0) await redis.hdel(key(roomId, 'waiting'), ...ids);
    },
    async waiting(roomId) {
      const raw = await redis.hvals(key(roomId, 'waiting'));
      const entries: WaitingEntry[] = [];
      for (const r of raw) {
        const parsed = safeParseInput(entrySchema, parseJson(r));
        if (parsed.success) entries.push(parsed.data);
      }
      return entries.sort((a, b) => a.since - b.since || a.id.localeCompare(b.id));
    },
    async forget(roomId) {
      await redis.del(...['settings', 'barred', 'mods', 'waiting'].map((w) => key(roomId, w)));
    },
    async releaseNode(nodeId, before) {
      // Every room's list (a scan, once at start-up): the lists do not say which nodes use them.
      const changed: string[] = [];
      const match = `${literalGlob(p)}*:waiting`;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
        cursor = next;
        for (const k of keys) {
          const removed = await RELEASE(redis, [k], [nodeId, before]);
          if (Number(removed) > 0) changed.push(k.slice(p.length, -':waiting'.length));
        }
      } while (cursor !== '0');
      return changed;
    },
    async close() {
      await quitRedis(redis);
    },
  };
}

/** In process: one state per hub, so the "nodes" of a test share it. */
const states = new WeakMap<LocalClusterHub, MemoryModerationState>();

export function hubModerationState(hub: LocalClusterHub): SharedModerationState {
  let state = states.get(hub);
  if (!state) states.set(hub, (state = new MemoryModerationState()));
  return state;
}
