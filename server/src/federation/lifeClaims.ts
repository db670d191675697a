import type { Redis } from 'ioredis';
import { connectRedis, type LocalClusterHub, type RedisSettings } from '../cluster/index.ts';
import type { Logger } from '../kernel/log.ts';
import { luaScript, quitRedis } from '../kernel/redis.ts';
import type { LifeRecord, LifeWrite } from '../games/saved.ts';

/**
 * Which node runs a room's life (its games, reactions and raised hands): the first node that
 * asks takes the room, and keeps it while the room has members anywhere in the cluster, even
 * none of its own. Taking over from a holder is a compare-and-set against the holder the
 * caller saw gone (out of the registry), so two nodes can never both run one room.
 *
 * The holder also keeps the room's life there (games/saved.ts: its game, members and hand
 * queue, and CatchMind's strokes as a log), written only while it holds the room, so that a
 * node that takes the room over carries the game on. Given up, the room's life goes with it.
 */
export interface LifeClaims {
  /**
   * The room's holder after the call: `nodeId` when it was free, already ours, or held by
   * `replacing` (a node the caller knows is gone); else the live holder.
   */
  claim(roomId: string, nodeId: string, replacing?: string): Promise<string>;
  /** Gives the room up if `nodeId` holds it (its members are all gone), its saved life too. */
  release(roomId: string, nodeId: string): Promise<void>;
  /**
   * Writes the room's life if `nodeId` holds the room: `taken` when another node holds it,
   * `unclaimed` when nobody does (given up, or expired), and nothing is written then.
   */
  save(roomId: string, nodeId: string, write: LifeWrite): Promise<SaveOutcome>;
  /** Who holds the room now (a plain read, nothing refreshed); null when nobody. */
  holder(roomId: string): Promise<string | null>;
  /** The room's life as its holder last wrote it; null when none. */
  load(roomId: string): Promise<LifeRecord | null>;
  close(): Promise<void>;
}

export type SaveOutcome = 'saved' | 'taken' | 'unclaimed';

/** A saved life nobody writes again (its room emptied while nobody held it) goes after 6 h. */
const STATE_TTL_MS = 6 * 3600 * 1000;

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

// KEYS: the claim, the life's state, its stroke log.
const RELEASE = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return 1
`);

// ARGV: holder, ttl, state ('' = unchanged), reset ('1' = empty the log), strokes to append…
// Answers 1 (saved), 0 (another node holds the room), -1 (nobody does).
const SAVE = luaScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return -1 end
if cur ~= ARGV[1] then return 0 end
local ttl = ARGV[2]
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3], 'PX', ttl)
else redis.call('PEXPIRE', KEYS[2], ttl) end
if ARGV[4] == '1' then redis.call('DEL', KEYS[3]) end
for i = 5, #ARGV, 500 do
  redis.call('RPUSH', KEYS[3], unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
redis.call('PEXPIRE', KEYS[3], ttl)
return 1
`);

export function redisLifeClaims(
  settings: RedisSettings & { prefix: string },
  log: Logger,
): LifeClaims {
  const redis: Redis = connectRedis(settings, log, 'room life', { label: 'presence' });
  const key = (roomId: string) => `${settings.prefix}life:${roomId}`;
  const keys = (roomId: string) => [key(roomId), `${key(roomId)}:state`, `${key(roomId)}:strokes`];
  return {
    async claim(roomId, nodeId, replacing = '') {
      return String(await CLAIM(redis, [], [key(roomId), nodeId, replacing, TTL_MS]));
    },
    async release(roomId, nodeId) {
      await RELEASE(redis, keys(roomId), [nodeId]);
    },
    async save(roomId, nodeId, w) {
      const args = [nodeId, STATE_TTL_MS, w.state, w.resetStrokes ? '1' : '0', ...w.strokes];
      const answer = Number(await SAVE(redis, keys(roomId), args));
      return answer === 1 ? 'saved' : answer === 0 ? 'taken' : 'unclaimed';
    },
    async holder(roomId) {
      return redis.get(key(roomId));
    },
    async load(roomId) {
      const [, stateKey, strokesKey] = keys(roomId);
      const rows = (await redis.multi().get(stateKey!).lrange(strokesKey!, 0, -1).exec()) ?? [];
      const [state, strokes] = rows.map(([err, value]) => {
        if (err) throw err;
        return value;
      });
      if (typeof state !== 'string') return null;
      return { state, strokes: Array.isArray(strokes) ? strokes.map(String) : [] };
    },
    async close() {
      await quitRedis(redis);
    },
  };
}

/** In process: one table per hub, so the "nodes" of a test share it. */
const tables = new WeakMap<LocalClusterHub, Map<string, string>>();
/** The lives saved on a hub (tests look inside, and forge). */
export const hubLives = new WeakMap<LocalClusterHub, Map<string, LifeRecord>>();

export function localLifeClaims(hub: LocalClusterHub): LifeClaims {
  let table = tables.get(hub);
  if (!table) tables.set(hub, (table = new Map()));
  let saved = hubLives.get(hub);
  if (!saved) hubLives.set(hub, (saved = new Map()));
  const holders = table;
  const lives = saved;
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
      if (holders.get(roomId) !== nodeId) return;
      holders.delete(roomId);
      lives.delete(roomId);
    },
    async save(roomId, nodeId, w) {
      const cur = holders.get(roomId);
      if (cur === undefined) return 'unclaimed';
      if (cur !== nodeId) return 'taken';
      const was = lives.get(roomId) ?? { state: '', strokes: [] };
      const strokes = [...(w.resetStrokes ? [] : was.strokes), ...w.strokes];
      lives.set(roomId, { state: w.state || was.state, strokes });
      return 'saved';
    },
    async holder(roomId) {
      return holders.get(roomId) ?? null;
    },
    async load(roomId) {
      const record = lives.get(roomId);
      return record?.state ? { state: record.state, strokes: [...record.strokes] } : null;
    },
    async close() {},
  };
}
