import type { Config } from '@tutti/config';
import { TuttiError } from '@tutti/protocol';
import type { Cluster } from '../cluster/index.ts';
import type { Logger } from '../kernel/log.ts';
import type { RoomExtension } from '../rooms/ports.ts';
import type { Room } from '../rooms/Room.ts';
import { announced } from './announcementOrder.ts';
import { EdgeReconciler } from './edgeReconcile.ts';
import { MediaEdge } from './mediaEdge.ts';
import type { MediaMethods } from './mediaMethods.ts';
import { MediaOrigin } from './mediaOrigin.ts';
import type { ClusterNode } from './node.ts';

export interface MediaFederation {
  readonly origin: MediaOrigin;
  readonly edge: MediaEdge;
  /** The edge's periodic repair of lost announcements (cluster.mediaReconcileMs). */
  readonly reconciler: EdgeReconciler;
  /** Registered with rooms.use(): notices a room's first and last local member. */
  readonly rooms: RoomExtension;
  close(): void;
}

export interface MediaFederationDeps {
  /** With presence's view of the other nodes' members (a pipe is retried while it lists one). */
  cluster: Cluster<MediaMethods> & Pick<ClusterNode, 'remote'>;
  room: (roomId: string) => Room | undefined;
  config: Config;
  log: Logger;
}

/**
 * Remote producers: this node as origin (its members' producers piped to the other nodes
 * hosting the room) and as edge (theirs piped in). The RPC handlers, the registry's
 * departures and the rooms' first/last local member meet here. See docs/cluster.md.
 */
export function createMediaFederation(deps: MediaFederationDeps): MediaFederation {
  const { cluster, config } = deps;
  const { rpc, registry, placement, nodeId } = cluster;
  const log = deps.log.child({ concern: 'media-federation' });
  const origin = new MediaOrigin({ rpc, room: deps.room, media: config.media, log });
  const edge = new MediaEdge({
    rpc,
    room: deps.room,
    media: config.media,
    log,
    hosts: async (roomId) =>
      Object.keys((await placement.spread(roomId)).nodes).filter((n) => n !== nodeId),
    present: (roomId, peerId) => cluster.remote.peers(roomId).some((p) => p.id === peerId),
  });
  const periodMs = config.cluster.mediaReconcileMs;
  const reconciler = new EdgeReconciler({ rpc, edge, periodMs, log });
  reconciler.start();

  // It hosts the room too: watch it back (a node that joined after us asks us first).
  const watchBack = (roomId: string, from: string) => {
    if (edge.isActive(roomId)) void edge.subscribe(roomId, from);
  };
  rpc.handle('media.watch', (d, { from }) => {
    const answer = origin.watch(d.roomId, from);
    watchBack(d.roomId, from);
    return answer;
  });
  rpc.handle('media.rewatch', (d, { from }) => {
    const answer = origin.rewatch(d.roomIds, from);
    for (const roomId of d.roomIds) watchBack(roomId, from);
    return answer;
  });
  rpc.handle('media.unwatch', (d, { from }) => (origin.unwatch(d.roomId, from), {}));
  rpc.handle('pipe.open', async (d, { from }) => {
    // Media goes where the request says: a known node only gets it at its own address.
    const known = registry.get(from);
    if (known && known.mediaAddress !== d.edge.ip)
      throw new TuttiError('FORBIDDEN', 'pipe address is not the node’s media address');
    return { origin: await origin.open(d.roomId, from, d.edge) };
  });
  rpc.handle('pipe.consume', (d, { from }) => origin.consume(d.roomId, from, d.producerId));
  rpc.handle(
    'pipe.unconsume',
    (d, { from }) => (origin.unconsume(d.roomId, from, d.producerId), {}),
  );
  rpc.handle('pipe.close', (d, { from }) => (origin.close(d.roomId, from), {}));
  rpc.handle('media.producerOpened', (d, { from }) => {
    edge.opened(d.roomId, from, d.producer, announced(d.stamp));
    return {};
  });
  rpc.handle('media.producerClosed', (d, { from }) => {
    edge.closed(d.roomId, from, d.producerId, announced(d.stamp));
    return {};
  });
  rpc.handle('media.producerPaused', (d, { from }) => {
    edge.setPaused(d.roomId, from, d.producerId, true, announced(d.stamp));
    return {};
  });
  rpc.handle('media.producerResumed', (d, { from }) => {
    edge.setPaused(d.roomId, from, d.producerId, false, announced(d.stamp));
    return {};
  });
  rpc.handle('pipe.closed', (d, { from }) => (edge.pipeClosed(d.roomId, from), {}));

  const gone = (node: string) => {
    origin.nodeGone(node);
    edge.nodeGone(node);
  };
  registry.on('nodeLeft', (node) => gone(node));
  registry.on('nodeRestarted', (info) => {
    gone(info.nodeId);
    edge.nodeBack(info.nodeId); // A new process: its members ask us, we ask it again too.
  });
  // Declared gone but back (frozen, partitioned): watched again, piped again.
  registry.on('nodeJoined', (info) => edge.nodeBack(info.nodeId));

  const watched = new WeakSet<Room>();
  // Not inline in joinAnswer: a closure made there shares its scope with `member`, and the
  // room's listener kept the room's first joiner (its channel, socket, buffers) for life.
  const watch = (room: Room): void => {
    if (watched.has(room)) return;
    watched.add(room);
    room.on('produced', (producer) => origin.produced(room.id, producer));
  };
  const rooms: RoomExtension = {
    joinAnswer(roomId, member) {
      const room = deps.room(roomId);
      if (!room) return {};
      watch(room);
      // In the background: the join answer never waits for other nodes. The seat was
      // taken before admission (federation/presence), so placement.spread() shows this node.
      void (async () => {
        if (room.hasMember(member.id)) await edge.activate(roomId);
      })();
      return {};
    },
    memberLeft(roomId, _memberId, roomEmpty) {
      if (roomEmpty) edge.deactivate(roomId);
    },
    // Resumed from another node: it consumes from here now, as after a join.
    memberArrived(roomId, member) {
      void rooms.joinAnswer?.(roomId, member);
    },
    memberDeparted(roomId, _memberId, roomEmpty) {
      if (roomEmpty) edge.deactivate(roomId);
    },
  };

  return {
    origin,
    edge,
    reconciler,
    rooms,
    close() {
      reconciler.close();
      edge.closeAll();
      origin.closeAll();
    },
  };
}
