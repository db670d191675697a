import type { Redis } from 'ioredis';
import {
  connectRedis,
  whenReady,
  type LocalClusterHub,
  type RedisSettings,
} from '../cluster/index.ts';
import type { Logger } from '../kernel/log.ts';
import { luaScript, quitRedis } from '../kernel/redis.ts';

/**
 * The rooms' runs, shared by the nodes (federation/roomSessions.ts): per room, whether a run
 * is on (and the room's name when it started) and which of its members is on which node.
 * Every call is one atomic step, so of two nodes deciding at once exactly one starts a run
 * (the first member in) and exactly one finishes it (the last member out).
 */
export interface RoomSessionStore {
  /** `memberId` is in on `nodeId`; true when this started the room's run. */
  join(roomId: string, memberId: string, nodeId: string, name: string): Promise<boolean>;
  /** `memberId` is on `nodeId` now (it came over from another node); nothing starts. */
  arrive(roomId: string, memberId: string, nodeId: string): Promise<void>;
  /**
   * `memberId` is out, if it was on `nodeId` (`nodeEmpty`: the node has nobody of the room
   * left); the run's name when nobody is left, which finished it.
   */
  leave(
    roomId: string,
    memberId: string,
    nodeId: string,
    nodeEmpty: boolean,
  ): Promise<string | null>;
  /** Every member on `nodeId` is out (it died or restarted): the runs this finished. */
  releaseNode(nodeId: string): Promise<{ roomId: string; name: string }[]>;
  /** Resolves once the store can be used (at most a connect timeout): whether it can. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/** A run nobody joins or leaves for a week is forgotten (its keys expire). */
const TTL_MS = 7 * 24 * 3600 * 1000;

// Keys (prefix p): p..webhooks:room:<room> the run (the room's name), …:in hash member→node,
// p..webhooks:node:<node> set of the rooms with members on the node. Derived in the scripts:
// a single Redis primary, as the placement's.
const KEYS_FN = `
local function keys(p, room) return p .. 'webhooks:room:' .. room, p .. 'webhooks:room:' .. room .. ':in' end
local function finish(run, members)
  if redis.call('HLEN', members) > 0 then return false end
  local name = redis.call('GET', run)
  if name then redis.call('DEL', run) end
  return name
end
`;

// ARGV: p, room, member, node, name ('' with arrive: nothing starts), ttl, start ('1' or '0').
const JOIN = luaScript(`${KEYS_FN}
local p, room, member, node, name, ttl, start = unpack(ARGV)
local run, members = keys(p, room)
local rooms = p .. 'webhooks:node:' .. node
redis.call('HSET', members, member, node)
redis.call('SADD', rooms, room)
redis.call('PEXPIRE', members, ttl)
redis.call('PEXPIRE', rooms, ttl)
if start == '1' and redis.call('SET', run, name, 'NX', 'PX', ttl) then return 1 end
redis.call('PEXPIRE', run, ttl)
return 0`);

// ARGV: p, room, member, node, nodeEmpty ('1' or '0').
const LEAVE = luaScript(`${KEYS_FN}
local p, room, member, node, nodeEmpty = unpack(ARGV)
local run, members = keys(p, room)
if redis.call('HGET', members, member) == node then redis.call('HDEL', members, member) end
if nodeEmpty == '1' then
  local all, mine = redis.call('HVALS', members), false
  for _, at in ipairs(all) do if at == node then mine = true end end
  if not mine then redis.call('SREM', p .. 'webhooks:node:' .. node, room) end
end
return finish(run, members)`);

// ARGV: p, node. Answers room, name, room, name… for the runs it finished.
const RELEASE_NODE = luaScript(`${KEYS_FN}
local p, node = unpack(ARGV)
local rooms = p .. 'webhooks:node:' .. node
local out = {}
for _, room in ipairs(redis.call('SMEMBERS', rooms)) do
  local run, members = keys(p, room)
  local all = redis.call('HGETALL', members)
  for i = 1, #all, 2 do
    if all[i + 1] == node then redis.call('HDEL', members, all[i]) end
  end
  local name = finish(run, members)
  if name then table.insert(out, room) table.insert(out, name) end
end
redis.call('DEL', rooms)
return out`);

export function redisRoomSessionStore(
  settings: RedisSettings & { prefix: string },
  log: Logger,
): RoomSessionStore {
  const redis: Redis = connectRedis(settings, log, 'webhook runs', { label: 'presence' });
  const p = settings.prefix;
  return {
    async join(roomId, memberId, nodeId, name) {
      return (await JOIN(redis, [], [p, roomId, memberId, nodeId, name, TTL_MS, '1'])) === 1;
    },
    async arrive(roomId, memberId, nodeId) {
      await JOIN(redis, [], [p, roomId, memberId, nodeId, '', TTL_MS, '0']);
    },
    async leave(roomId, memberId, nodeId, nodeEmpty) {
      const name = await LEAVE(redis, [], [p, roomId, memberId, nodeId, nodeEmpty ? '1' : '0']);
      return typeof name === 'string' ? name : null;
    },
    async releaseNode(nodeId) {
      const flat = ((await RELEASE_NODE(redis, [], [p, nodeId])) ?? []) as string[];
      const out: { roomId: string; name: string }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2)
        out.push({ roomId: flat[i]!, name: flat[i + 1]! });
      return out;
    },
    ready: () => whenReady(redis, (settings.connectTimeoutMs ?? 2000) + 1000),
    async close() {
      await quitRedis(redis);
    },
  };
}

interface HubRun {
  /** Set while a run is on. */
  name?: string;
  members: Map<string, string>;
}

/** In process: one table per hub, so the "nodes" of a test share it. */
const tables = new WeakMap<LocalClusterHub, Map<string, HubRun>>();

export function localRoomSessionStore(hub: LocalClusterHub): RoomSessionStore {
  let found = tables.get(hub);
  if (!found) tables.set(hub, (found = new Map()));
  const runs = found;
  const runOf = (roomId: string) => {
    let run = runs.get(roomId);
    if (!run) runs.set(roomId, (run = { members: new Map() }));
    return run;
  };
  const finish = (roomId: string, run: HubRun): string | null => {
    if (run.members.size > 0) return null;
    runs.delete(roomId);
    return run.name ?? null;
  };
  return {
    async join(roomId, memberId, nodeId, name) {
      const run = runOf(roomId);
      run.members.set(memberId, nodeId);
      if (run.name !== undefined) return false;
      run.name = name;
      return true;
    },
    async arrive(roomId, memberId, nodeId) {
      runOf(roomId).members.set(memberId, nodeId);
    },
    async leave(roomId, memberId, nodeId) {
      const run = runs.get(roomId);
      if (!run) return null;
      if (run.members.get(memberId) === nodeId) run.members.delete(memberId);
      return finish(roomId, run);
    },
    async releaseNode(nodeId) {
      const out: { roomId: string; name: string }[] = [];
      for (const [roomId, run] of [...runs]) {
        const before = run.members.size;
        for (const [memberId, at] of [...run.members])
          if (at === nodeId) run.members.delete(memberId);
        if (run.members.size === before) continue;
        const name = finish(roomId, run);
        if (name !== null) out.push({ roomId, name });
      }
      return out;
    },
    ready: async () => true,
    async close() {},
  };
}
