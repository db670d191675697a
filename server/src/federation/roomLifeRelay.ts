import { TuttiError } from '@tutti/protocol';
import type { RemoteRoomLife, RoomLifeService } from '../games/remote.ts';
import { parseLifeRecord } from '../games/saved.ts';
import type { Logger } from '../kernel/log.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { dropLogger } from '../cluster/dropLog.ts';
import type { ClusterNode } from './node.ts';
import type { PresenceEvent } from './presenceEvents.ts';
import { bounded } from './timeout.ts';
import { unlistedSenderGate } from './unlistedSenders.ts';

type LifeEvent = Extract<PresenceEvent, { type: 'life.event' }>;

/**
 * Room life across nodes (docs/cluster.md). Each room's life runs on one node, its holder in
 * LifeClaims: the first node that needs it, kept while the room has members anywhere; a
 * holder gone from the registry is replaced (compare-and-set) by the next node that asks.
 * Members elsewhere reach it by RPC (`life.*`); its events reach them on the signed bus
 * (`life.event`). The holder believes nothing about a member but the id: role and node come
 * from presence, and only the node a member sits on may speak for it. The holder keeps the
 * room's life in the claims' store on every change; the node that replaces a gone holder
 * reads it back (checked: a bad or forged one is dropped and logged) and carries it on. A
 * holder that was frozen or cut off meanwhile learns it lost the room (a refused save, another
 * node's event for it, its claim read after a stall or before a timer speaks) and drops its
 * stale life without a word (games/lives.ts).
 */
export function createRoomLifeRelay(deps: {
  cluster: ClusterNode;
  rooms: RoomRegistry;
  service: RoomLifeService;
  log: Logger;
  timeoutMs: number;
}): RemoteRoomLife {
  const { cluster, rooms, service, timeoutMs } = deps;
  const me = cluster.nodeId;
  /** The member as the calling node announced it: FORBIDDEN if it sits on no such node. */
  const memberOf = (roomId: string, memberId: string, from: string) => {
    const host = rooms.remoteHost(roomId, memberId);
    if (!host || host.nodeId !== from) {
      throw new TuttiError('FORBIDDEN', 'NOT_A_PLAYER: not a member of this room on that node');
    }
    return host.peer;
  };
  const { rpc } = cluster;
  rpc.handle('life.request', async ({ roomId, memberId, method, data }, { from }) => {
    const peer = memberOf(roomId, memberId, from);
    const caller = { memberId, moderator: peer.role !== 'participant' };
    return (await service.handle(roomId, caller, method, data)) as Record<string, unknown>;
  });
  rpc.handle('life.join', async ({ roomId, memberId }, { from }) => {
    // A joiner whose announcement has not arrived yet sees what a spectator sees.
    const known = rooms.remoteHost(roomId, memberId);
    const viewer = known?.nodeId === from ? memberId : '';
    return service.joinExtras(roomId, viewer);
  });
  rpc.handle('life.chat', async ({ roomId, memberId, text }, { from }) => {
    memberOf(roomId, memberId, from);
    return { outcome: await service.chat(roomId, memberId, text) };
  });
  // A node the registry does not list may have just started (delivered once a fresh scan
  // lists it), or be gone: cut off or frozen, it may still run a room taken over since, and
  // its events would contradict the new holder's (dropped).
  const dropped = dropLogger(deps.log); // A gone node may go on talking: one line a second.
  const fromListed = unlistedSenderGate<LifeEvent>({
    listed: (nodeId) => cluster.registry.get(nodeId) !== undefined,
    refresh: () => cluster.registry.refresh(),
    timeoutMs,
    deliver: (from, e) => service.deliver(from, e.roomId, e.event, e.to),
    drop: (from, events) =>
      dropped('room life: event of a gone node', {
        from,
        roomIds: [...new Set(events.map((e) => e.roomId))],
        count: events.length,
      }),
  });
  cluster.bus.subscribe(({ from, event }) => {
    if (event.type === 'life.event' && from !== me) fromListed(from, event);
  });
  // Back from a stall, or from being declared gone: our rooms may have been taken over.
  cluster.registry.on('stalled', () => service.recheck());
  cluster.registry.on('selfReinstated', () => service.recheck());
  cluster.remote.onChange((roomId) => service.membersChanged(roomId));
  cluster.registry.on('nodeLeft', (nodeId) => service.nodeGone(nodeId));

  /** Fails within the timeout as MEDIA_UNAVAILABLE; a holder's own refusal passes as it is. */
  const reach = async <T>(work: Promise<T>): Promise<T> => {
    try {
      return await bounded(work, timeoutMs);
    } catch (err) {
      if (err instanceof TuttiError && err.code !== 'INTERNAL') throw err;
      deps.log.warn({ err }, 'room life: the room’s node could not be reached');
      throw new TuttiError('MEDIA_UNAVAILABLE', 'the room’s games cannot be reached; try again');
    }
  };
  /**
   * Whether a room's holder is a live node. One this node does not list may have started
   * since its last scan (the registry is read every heartbeat): taking its rooms then would
   * leave two lives for one room, so the registry is read again before it counts as gone.
   */
  const listed = async (nodeId: string): Promise<boolean> => {
    if (cluster.registry.get(nodeId) !== undefined) return true;
    await reach(cluster.registry.refresh());
    return cluster.registry.get(nodeId) !== undefined;
  };
  const claims = cluster.lifeClaims;
  const rpcOpts = { timeoutMs };

  return {
    async authority(roomId) {
      let holder = await reach(claims.claim(roomId, me));
      if (holder !== me && !(await listed(holder))) {
        holder = await reach(claims.claim(roomId, me, holder)); // Its holder is gone: ours now.
      }
      return holder === me ? undefined : holder;
    },
    request: (nodeId, roomId, memberId, method, data) =>
      reach(rpc.request(nodeId, 'life.request', { roomId, memberId, method, data }, rpcOpts)),
    joinExtras: (nodeId, roomId, memberId) =>
      reach(rpc.request(nodeId, 'life.join', { roomId, memberId }, rpcOpts)),
    async chat(nodeId, roomId, memberId, text) {
      const answer = await reach(
        rpc.request(nodeId, 'life.chat', { roomId, memberId, text }, rpcOpts),
      );
      return answer.outcome;
    },
    members: (roomId) =>
      cluster.remote.peers(roomId).map((p) => ({ id: p.id, nickname: p.nickname })),
    publish(roomId, event, to) {
      cluster.bus.publish({ type: 'life.event', roomId, event, ...(to !== undefined && { to }) });
    },
    release(roomId) {
      bounded(claims.release(roomId, me), timeoutMs).catch((err: unknown) =>
        deps.log.warn({ err, roomId }, 'room life: the room’s claim not given up'),
      );
    },
    async saveLife(roomId, write) {
      try {
        const saved = await bounded(claims.save(roomId, me, write), timeoutMs);
        if (saved === 'saved') return 'saved';
        deps.log.warn({ roomId, saved }, 'room life: not saved (this node holds the room no more)');
        return saved === 'taken' ? 'taken' : 'failed';
      } catch (err) {
        deps.log.warn({ err, roomId }, 'room life: not saved');
        return 'failed';
      }
    },
    async holds(roomId) {
      const holder = await bounded(claims.holder(roomId), timeoutMs).catch((err: unknown) => {
        deps.log.warn({ err, roomId }, 'room life: the room’s claim could not be read');
        return null;
      });
      return holder === null ? undefined : holder === me;
    },
    async loadLife(roomId) {
      let record;
      try {
        record = await bounded(claims.load(roomId), timeoutMs);
      } catch (err) {
        deps.log.warn({ err, roomId }, 'room life: the saved life could not be read');
        return null;
      }
      if (!record) return null;
      const parsed = parseLifeRecord(record);
      if ('dropped' in parsed) {
        deps.log.warn({ roomId, why: parsed.dropped }, 'room life: saved life dropped');
        return null;
      }
      return parsed;
    },
  };
}
