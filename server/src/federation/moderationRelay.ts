import { TuttiError } from '@tutti/protocol';
import type { ModerationActions } from '../moderation/actions.ts';
import type { RemoteModeration } from '../moderation/remote.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { ClusterNode } from './node.ts';

/**
 * Moderation across nodes: a moderator's action on a person who sits on another node is
 * run there (RPC `moderation.relay`). The target's node believes nothing the request says
 * about the actor: it looks the actor up among the room's members that the calling node
 * announced (presence), so a node can act only for its own members, with their real role.
 */
export function createModerationRelay(deps: {
  cluster: ClusterNode;
  rooms: RoomRegistry;
  actions: ModerationActions;
}): RemoteModeration {
  const { cluster, rooms } = deps;
  cluster.rpc.handle(
    'moderation.relay',
    async ({ roomId, actorId, targetId, action }, { from }) => {
      const actor = rooms.remoteHost(roomId, actorId);
      if (!actor || actor.nodeId !== from) {
        throw new TuttiError('FORBIDDEN', 'the actor is not a member of this room on that node');
      }
      await deps.actions.apply(roomId, { id: actorId, info: actor.peer }, targetId, action);
      return {};
    },
  );
  return {
    hosts: (roomId, targetId) => rooms.remoteHost(roomId, targetId) !== undefined,
    async forward(roomId, actorId, targetId, action) {
      const target = rooms.remoteHost(roomId, targetId);
      if (!target) throw new TuttiError('NOT_FOUND', 'no such participant in this room');
      await cluster.rpc.request(target.nodeId, 'moderation.relay', {
        roomId,
        actorId,
        targetId,
        action,
      });
    },
  };
}
