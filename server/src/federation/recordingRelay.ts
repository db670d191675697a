import { TuttiError, type RecordingState } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { LocalRecording, RemoteRecording } from '../recording/remote.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { ClusterNode } from './node.ts';

/**
 * A room's recording across nodes (docs/cluster.md). The node that records a room says so
 * on the presence bus (`recording.state`, signed like every presence event) at every change;
 * the others keep that state and show it to their members. A node that may have missed it
 * (the room's first member here, Redis back) asks the live nodes (`recording.state` RPC). A
 * `recording.stop` from a member here runs on the recording node (`recording.stop` RPC),
 * which believes nothing the request says about the actor but its owner secret: the actor's
 * role is the one this node announced for it. A recording node that leaves the cluster ends
 * its recordings for everyone else, with the reason.
 */
export function createRecordingRelay(deps: {
  cluster: ClusterNode;
  rooms: RoomRegistry;
  local: LocalRecording;
  log: Logger;
  timeoutMs: number;
}): RemoteRecording {
  const { cluster, rooms, local, log, timeoutMs } = deps;
  const bus = cluster.bus;
  /** The last state another node announced for a room (active, or how it ended). */
  const states = new Map<string, { nodeId: string; state: RecordingState }>();
  /** Rooms whose state this node has heard or asked for since it may have missed some. */
  const known = new Set<string>();

  const apply = (roomId: string, nodeId: string, state: RecordingState): void => {
    const current = states.get(roomId);
    // Another node's idle state does not end a recording that this one knows is running.
    if (!state.active && current && current.nodeId !== nodeId && current.state.active) return;
    states.set(roomId, { nodeId, state });
    known.add(roomId);
    local.remoteChanged(roomId);
  };

  bus.subscribe(({ from, event }) => {
    if (event.type === 'recording.state') apply(event.roomId, from, event.state);
  });
  bus.onRecovered(() => known.clear());
  const gone = (nodeId: string): void => {
    for (const [roomId, { nodeId: by, state }] of states) {
      if (by !== nodeId || !state.active) continue;
      const error = 'the server recording this room left the cluster';
      apply(roomId, nodeId, { ...state, active: false, startedAt: null, error });
    }
  };
  cluster.registry.on('nodeLeft', (nodeId) => gone(nodeId));
  cluster.registry.on('nodeRestarted', (info) => gone(info.nodeId));

  cluster.rpc.handle('recording.state', ({ roomId }) => ({ state: local.localState(roomId) }));
  cluster.rpc.handle('recording.stop', async ({ roomId, actorId, ownerSecret }, { from }) => {
    const actor = rooms.remoteHost(roomId, actorId);
    if (!actor || actor.nodeId !== from) {
      throw new TuttiError('FORBIDDEN', 'the actor is not a member of this room on that node');
    }
    return { state: await local.stopFor(roomId, actor.peer.role, ownerSecret) };
  });

  return {
    elsewhere: (roomId) => states.get(roomId),

    async catchUp(roomId) {
      if (known.has(roomId)) return;
      const others = cluster.registry.nodes().filter((n) => n.nodeId !== cluster.nodeId);
      await Promise.all(
        others.map(async ({ nodeId }) => {
          try {
            const { state } = await cluster.rpc.request(
              nodeId,
              'recording.state',
              { roomId },
              { timeoutMs },
            );
            if (state.active) apply(roomId, nodeId, state);
          } catch (err) {
            log.warn({ err, nodeId, roomId }, 'recording: no state from a node');
          }
        }),
      );
      known.add(roomId);
    },

    announce(roomId, state) {
      bus.publish({ type: 'recording.state', roomId, state });
    },

    async stop(roomId, actorId, ownerSecret) {
      const there = states.get(roomId);
      if (!there?.state.active) throw new TuttiError('INVALID_REQUEST', 'not recording');
      const { state } = await cluster.rpc.request(
        there.nodeId,
        'recording.stop',
        { roomId, actorId, ...(ownerSecret !== undefined && { ownerSecret }) },
        { timeoutMs },
      );
      return state;
    },
  };
}
