import { TuttiError, type PeerInfo } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { ModerationActions } from '../moderation/actions.ts';
import type { Moderation } from '../moderation/Moderation.ts';
import type { RemoteModeration } from '../moderation/remote.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { ClusterNode } from './node.ts';

/**
 * Moderation across nodes. A moderator's action on a person who sits on another node is run
 * there (RPC `moderation.relay`); so are an admission or denial of someone who waits there
 * (`moderation.door`) and the end of the meeting (`moderation.end`, every node). The called
 * node believes nothing the request says about the actor: it looks the actor up among the
 * room's members that the calling node announced (presence), so a node can act only for its
 * own members, with their real role. The room-wide state itself is shared (node.ts: Redis or
 * the hub); a change is announced on the presence bus and every node reads it again.
 */
export function createModerationRelay(deps: {
  cluster: ClusterNode;
  rooms: RoomRegistry;
  actions: ModerationActions;
  moderation: Moderation;
  log: Logger;
}): RemoteModeration {
  const { cluster, rooms, actions, moderation } = deps;
  const { rpc, registry } = cluster;
  /** The actor as its own node (the caller) announced it; FORBIDDEN otherwise. */
  const actorOf = (roomId: string, actorId: string, from: string): PeerInfo => {
    const actor = rooms.remoteHost(roomId, actorId);
    if (!actor || actor.nodeId !== from) {
      throw new TuttiError('FORBIDDEN', 'the actor is not a member of this room on that node');
    }
    return actor.peer;
  };
  rpc.handle('moderation.relay', async ({ roomId, actorId, targetId, action }, { from }) => {
    const info = actorOf(roomId, actorId, from);
    await actions.apply(roomId, { id: actorId, info }, targetId, action);
    return {};
  });
  rpc.handle('moderation.door', async ({ roomId, actorId, waitingId, decision }, { from }) => {
    await actions.decideHere(roomId, actorOf(roomId, actorId, from), waitingId, decision);
    return {};
  });
  rpc.handle('moderation.end', ({ roomId, actorId }, { from }) => {
    if (!rooms.get(roomId)) return {}; // Nobody here: nothing to end.
    actions.endHere(roomId, { id: actorId, info: actorOf(roomId, actorId, from) });
    return {};
  });
  rpc.handle('moderation.admin', async ({ roomId, targetId, action }) => ({
    paused: await actions.byAdminHere(roomId, targetId, action),
  }));
  // The list a node shows leaves out people waiting on nodes it sees gone (waitingEntries): a
  // node leaving, joining or coming back changes it though the shared list did not, so the
  // moderators here are told it again (else a ghost stays listed, or a real knock hidden).
  const retell = () => {
    for (const room of rooms.rooms()) {
      moderation.changed(room.id, 'waiting').catch((err: unknown) => {
        deps.log.warn({ err, roomId: room.id }, 'moderation: the waiting list was not re-told');
      });
    }
  };
  registry.on('nodeLeft', () => retell());
  registry.on('nodeJoined', () => retell());
  registry.on('nodeRestarted', () => retell());
  cluster.bus.subscribe(({ event }) => {
    if (event.type !== 'moderation.changed') return;
    moderation.changed(event.roomId, event.change).catch((err: unknown) => {
      deps.log.warn({ err, roomId: event.roomId }, 'moderation: a change was not applied here');
    });
  });

  return {
    state: cluster.moderationState,
    nodeId: cluster.nodeId,
    live: (nodeId) => registry.get(nodeId) !== undefined,
    hosts: (roomId, targetId) => rooms.remoteHost(roomId, targetId) !== undefined,
    async forward(roomId, actorId, targetId, action) {
      const target = rooms.remoteHost(roomId, targetId);
      if (!target) throw new TuttiError('NOT_FOUND', 'no such participant in this room');
      await rpc.request(target.nodeId, 'moderation.relay', { roomId, actorId, targetId, action });
    },
    announce(roomId, change) {
      cluster.bus.publish({ type: 'moderation.changed', roomId, change });
    },
    async admin(roomId, targetId, action) {
      const target = rooms.remoteHost(roomId, targetId);
      if (!target) throw new TuttiError('NOT_FOUND', 'no such participant in this room');
      const answer = await rpc.request(target.nodeId, 'moderation.admin', {
        roomId,
        targetId,
        action,
      });
      return answer.paused;
    },
    async decide(roomId, actorId, nodeId, waitingId, decision) {
      await rpc.request(nodeId, 'moderation.door', { roomId, actorId, waitingId, decision });
    },
    async end(roomId, actorId) {
      // Every other live node: members, and people waiting, may sit on any of them.
      const others = registry.nodes().filter((n) => n.nodeId !== cluster.nodeId);
      const results = await Promise.allSettled(
        others.map((n) => rpc.request(n.nodeId, 'moderation.end', { roomId, actorId })),
      );
      results.forEach((r, i) => {
        if (r.status === 'rejected') {
          const nodeId = others[i]?.nodeId;
          deps.log.warn({ err: r.reason, roomId, nodeId }, 'moderation: a node did not end it');
        }
      });
    },
  };
}
