import type { Redis } from 'ioredis';
import type { RoomPlacement, RoomSpread, SeatResult } from './Placement.ts';
import { luaScript } from '../kernel/redis.ts';

// Keys (prefix p): p..seats:<room> hash member→node, p..hosts:<room> hash node→members,
// p..first:<room> the room's first node, p..noderooms:<node> set of rooms a node hosts,
// p..rooms zset room→count (the lobby). Each script runs atomically, which is the whole
// capacity guarantee. Keys are derived inside the scripts: a single Redis (or a replicated
// primary), not Redis Cluster.

const RELEASE_FN = `
local function release(p, room, member)
  local seats = p .. 'seats:' .. room
  local node = redis.call('HGET', seats, member)
  if not node then return 0 end
  redis.call('HDEL', seats, member)
  local hosts = p .. 'hosts:' .. room
  if redis.call('HINCRBY', hosts, node, -1) <= 0 then
    redis.call('HDEL', hosts, node)
    redis.call('SREM', p .. 'noderooms:' .. node, room)
  end
  local first = p .. 'first:' .. room
  local count = redis.call('HLEN', seats)
  if count == 0 then
    redis.call('DEL', seats, hosts, first)
    redis.call('ZREM', p .. 'rooms', room)
  else
    redis.call('ZADD', p .. 'rooms', count, room)
    if redis.call('HEXISTS', hosts, redis.call('GET', first) or '') == 0 then
      redis.call('SET', first, redis.call('HKEYS', hosts)[1])
    end
  end
  return 1
end
`;

const RESERVE = luaScript(`${RELEASE_FN}
local p, room, member, node, cap = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local seats = p .. 'seats:' .. room
local prev = redis.call('HGET', seats, member)
if prev == node then return {1, redis.call('HLEN', seats)} end
if prev then
  release(p, room, member)
elseif redis.call('HLEN', seats) >= cap then
  return {0, redis.call('HLEN', seats)}
end
redis.call('HSET', seats, member, node)
redis.call('HINCRBY', p .. 'hosts:' .. room, node, 1)
redis.call('SADD', p .. 'noderooms:' .. node, room)
redis.call('SET', p .. 'first:' .. room, node, 'NX')
local count = redis.call('HLEN', seats)
redis.call('ZADD', p .. 'rooms', count, room)
return {1, count}`);

const RELEASE = luaScript(`${RELEASE_FN}
return release(ARGV[1], ARGV[2], ARGV[3])`);

const RELEASE_NODE = luaScript(`${RELEASE_FN}
local p, node = ARGV[1], ARGV[2]
local n = 0
for _, room in ipairs(redis.call('SMEMBERS', p .. 'noderooms:' .. node)) do
  local seats = redis.call('HGETALL', p .. 'seats:' .. room)
  for i = 1, #seats, 2 do
    if seats[i + 1] == node then n = n + release(p, room, seats[i]) end
  end
end
redis.call('DEL', p .. 'noderooms:' .. node)
return n`);

const SPREAD = luaScript(`
local p, room = ARGV[1], ARGV[2]
return {
  redis.call('HLEN', p .. 'seats:' .. room),
  redis.call('GET', p .. 'first:' .. room) or '',
  redis.call('HGETALL', p .. 'hosts:' .. room),
}`);

export class RedisPlacement implements RoomPlacement {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async reserve(
    roomId: string,
    memberId: string,
    nodeId: string,
    capacity: number,
  ): Promise<SeatResult> {
    const args = [this.#prefix, roomId, memberId, nodeId, capacity];
    const [ok, count] = (await RESERVE(this.#redis, [], args)) as [number, number];
    return { ok: ok === 1, count };
  }

  seatOf(roomId: string, memberId: string): Promise<string | null> {
    return this.#redis.hget(`${this.#prefix}seats:${roomId}`, memberId);
  }

  async release(roomId: string, memberId: string): Promise<boolean> {
    return (await RELEASE(this.#redis, [], [this.#prefix, roomId, memberId])) === 1;
  }

  async releaseNode(nodeId: string): Promise<number> {
    return (await RELEASE_NODE(this.#redis, [], [this.#prefix, nodeId])) as number;
  }

  async spread(roomId: string): Promise<RoomSpread> {
    const [count, first, hosts] = (await SPREAD(this.#redis, [], [this.#prefix, roomId])) as [
      number,
      string,
      string[],
    ];
    const nodes: Record<string, number> = {};
    for (let i = 0; i + 1 < hosts.length; i += 2) nodes[hosts[i]!] = Number(hosts[i + 1]);
    return { count, nodes, firstNode: first || null };
  }

  async rooms(): Promise<{ roomId: string; count: number }[]> {
    // RESP2 answers a flat [member, score, …]; RESP3 pairs: accept either.
    const reply = await this.#redis.zrange(`${this.#prefix}rooms`, 0, '-1', 'WITHSCORES');
    const flat = (reply as unknown[]).flat() as string[];
    const out: { roomId: string; count: number }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2)
      out.push({ roomId: flat[i]!, count: Number(flat[i + 1]) });
    return out;
  }
}
