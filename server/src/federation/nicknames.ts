import type { Redis } from 'ioredis';
import { connectRedis, type LocalClusterHub, type RedisSettings } from '../cluster/index.ts';
import type { Logger } from '../kernel/log.ts';
import { luaScript, quitRedis } from '../kernel/redis.ts';

/**
 * Nicknames held cluster-wide, per room: two people joining through two nodes at once can't
 * both become "Ann". A claim takes the first free candidate atomically; its owner is
 * `nodeId|memberId`, so a node that died gives back all of its names at once.
 */
export interface NicknameClaims {
  /** The first candidate nobody else holds in the room (now held by `memberId`), or null. */
  claim(
    roomId: string,
    nodeId: string,
    memberId: string,
    candidates: string[],
  ): Promise<string | null>;
  release(roomId: string, nodeId: string, memberId: string, nickname: string): Promise<void>;
  /**
   * The member's name, held by `fromNode`, is `toNode`'s from now on (it resumed there);
   * false when someone else holds it (the member keeps it anyway: it is inside).
   */
  move(
    roomId: string,
    fromNode: string,
    toNode: string,
    memberId: string,
    nickname: string,
  ): Promise<boolean>;
  /** Every name a node held (it left the cluster, or starts again under the same id). */
  releaseNode(nodeId: string): Promise<void>;
  close(): Promise<void>;
}

/** The same case-insensitive key as the rooms' de-dup (dedupNickname). */
export const nicknameKey = (nickname: string): string => nickname.toLocaleLowerCase('en-US');

// Keys (prefix p): p..nick:<room> hash nameKey → "node|member"; p..nicknode:<node> set of
// "room\tnameKey" a node holds (so releaseNode needs no scan).
const CLAIM = luaScript(`
local p, room, owner, node = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local key = p .. 'nick:' .. room
for i = 5, #ARGV do
  local cur = redis.call('HGET', key, ARGV[i])
  if not cur or cur == owner then
    redis.call('HSET', key, ARGV[i], owner)
    redis.call('SADD', p .. 'nicknode:' .. node, room .. '\\t' .. ARGV[i])
    return i - 5
  end
end
return -1
`);

const RELEASE = luaScript(`
local p, room, owner, node, name = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = p .. 'nick:' .. room
if redis.call('HGET', key, name) == owner then redis.call('HDEL', key, name) end
redis.call('SREM', p .. 'nicknode:' .. node, room .. '\\t' .. name)
return 1
`);

const MOVE = luaScript(`
local p, room, from, to = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local fromNode, toNode, name = ARGV[5], ARGV[6], ARGV[7]
local key = p .. 'nick:' .. room
local cur = redis.call('HGET', key, name)
if cur and cur ~= from and cur ~= to then return 0 end
redis.call('HSET', key, name, to)
redis.call('SREM', p .. 'nicknode:' .. fromNode, room .. '\\t' .. name)
redis.call('SADD', p .. 'nicknode:' .. toNode, room .. '\\t' .. name)
return 1
`);

const RELEASE_NODE = luaScript(`
local p, node = ARGV[1], ARGV[2]
local set = p .. 'nicknode:' .. node
for _, entry in ipairs(redis.call('SMEMBERS', set)) do
  local tab = string.find(entry, '\\t', 1, true)
  local key = p .. 'nick:' .. string.sub(entry, 1, tab - 1)
  local name = string.sub(entry, tab + 1)
  local cur = redis.call('HGET', key, name)
  if cur and string.sub(cur, 1, #node + 1) == node .. '|' then redis.call('HDEL', key, name) end
end
redis.call('DEL', set)
return 1
`);

export function redisNicknames(
  settings: RedisSettings & { prefix: string },
  log: Logger,
): NicknameClaims {
  const redis: Redis = connectRedis(settings, log, 'nicknames', { label: 'presence' });
  const p = `${settings.prefix}presence:`;
  return {
    async claim(roomId, nodeId, memberId, candidates) {
      const keys = candidates.map(nicknameKey);
      const args = [p, roomId, `${nodeId}|${memberId}`, nodeId, ...keys];
      const i = Number(await CLAIM(redis, [], args));
      return i >= 0 ? (candidates[i] ?? null) : null;
    },
    async release(roomId, nodeId, memberId, nickname) {
      const args = [p, roomId, `${nodeId}|${memberId}`, nodeId, nicknameKey(nickname)];
      await RELEASE(redis, [], args);
    },
    async move(roomId, fromNode, toNode, memberId, nickname) {
      const [from, to] = [`${fromNode}|${memberId}`, `${toNode}|${memberId}`];
      const args = [p, roomId, from, to, fromNode, toNode, nicknameKey(nickname)];
      return Number(await MOVE(redis, [], args)) === 1;
    },
    async releaseNode(nodeId) {
      await RELEASE_NODE(redis, [], [p, nodeId]);
    },
    async close() {
      await quitRedis(redis);
    },
  };
}

/** In process: one table per hub, so the "nodes" of a test share it. */
const tables = new WeakMap<LocalClusterHub, Map<string, Map<string, string>>>();

export function localNicknames(hub: LocalClusterHub): NicknameClaims {
  let rooms = tables.get(hub);
  if (!rooms) tables.set(hub, (rooms = new Map()));
  const table = rooms;
  return {
    async claim(roomId, nodeId, memberId, candidates) {
      const names = table.get(roomId) ?? new Map<string, string>();
      table.set(roomId, names);
      const owner = `${nodeId}|${memberId}`;
      for (const candidate of candidates) {
        const cur = names.get(nicknameKey(candidate));
        if (cur === undefined || cur === owner) {
          names.set(nicknameKey(candidate), owner);
          return candidate;
        }
      }
      return null;
    },
    async release(roomId, nodeId, memberId, nickname) {
      const names = table.get(roomId);
      if (names?.get(nicknameKey(nickname)) === `${nodeId}|${memberId}`) {
        names.delete(nicknameKey(nickname));
      }
      if (names?.size === 0) table.delete(roomId);
    },
    async move(roomId, fromNode, toNode, memberId, nickname) {
      const names = table.get(roomId) ?? new Map<string, string>();
      table.set(roomId, names);
      const cur = names.get(nicknameKey(nickname));
      const to = `${toNode}|${memberId}`;
      if (cur !== undefined && cur !== `${fromNode}|${memberId}` && cur !== to) return false;
      names.set(nicknameKey(nickname), to);
      return true;
    },
    async releaseNode(nodeId) {
      for (const [roomId, names] of table) {
        for (const [key, owner] of names) if (owner.startsWith(`${nodeId}|`)) names.delete(key);
        if (names.size === 0) table.delete(roomId);
      }
    },
    async close() {},
  };
}
