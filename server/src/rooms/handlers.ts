import { TuttiError } from '@tutti/protocol';
import type { HandlerTable, RequestContext } from './ports.ts';
import type { Room } from './Room.ts';
import type { RoomRegistry } from './RoomRegistry.ts';

function joined(rooms: RoomRegistry, ctx: RequestContext): Room {
  const roomId = rooms.membership(ctx.peer.id)?.roomId;
  const room = roomId ? rooms.get(roomId) : undefined;
  if (!room || !room.hasPeer(ctx.peer.id)) throw new TuttiError('NOT_JOINED', 'join a room first');
  return room;
}

/** Lobby, membership and media requests. */
export function roomHandlers(rooms: RoomRegistry): HandlerTable {
  return {
    'lobby.subscribe': (ctx) => ({ rooms: rooms.subscribeLobby(ctx.peer) }),

    'room.create': (ctx, data) => rooms.create(data, ctx.peer.ip),

    'room.join': async (ctx, data) => {
      const { room, self, routerRtpCapabilities } = await rooms.join(
        ctx.peer,
        data.roomId,
        data.nickname,
        data.password,
      );
      const { history = [] } = await rooms.joinAnswer(room.id, ctx.peer);
      return {
        self,
        peers: room.peers().filter((p) => p.id !== self.id),
        room: room.summary(),
        routerRtpCapabilities,
        history,
      };
    },

    'room.leave': (ctx) => {
      rooms.leave(ctx.peer);
      return {};
    },

    'room.delete': async (ctx, data) => {
      const wasMember = rooms.membership(ctx.peer.id)?.roomId === data.roomId;
      await rooms.delete(data.roomId, data.ownerSecret, ctx.peer.ip, ctx.peer);
      // A member deleting its own room is disconnected like the others, after this answer.
      if (wasMember) setTimeout(() => ctx.peer.close(), 200).unref();
      return {};
    },

    'room.update': async (ctx, data) => ({
      room: await rooms.update(data.roomId, data.ownerSecret, ctx.peer.ip, {
        name: data.name,
        password: data.password,
        capacity: data.capacity,
      }),
    }),

    'media.getRouterRtpCapabilities': async (ctx) => ({
      rtpCapabilities: await joined(rooms, ctx).rtpCapabilities(ctx.peer.id),
    }),

    'media.createTransport': (ctx, data) =>
      joined(rooms, ctx).createTransport(ctx.peer.id, data.direction, data.forceTcp ?? false),

    'media.connectTransport': async (ctx, data) => {
      await joined(rooms, ctx).connectTransport(ctx.peer.id, data.transportId, data.dtlsParameters);
      return {};
    },

    'media.restartIce': async (ctx, data) => ({
      iceParameters: await joined(rooms, ctx).restartIce(ctx.peer.id, data.transportId),
    }),

    'media.ready': async (ctx, data) => {
      await joined(rooms, ctx).ready(ctx.peer.id, data.rtpCapabilities);
      return {};
    },

    'media.produce': async (ctx, data) => ({
      producerId: await joined(rooms, ctx).produce(ctx.peer.id, data),
    }),

    'media.closeProducer': (ctx, data) => {
      joined(rooms, ctx).closeProducer(ctx.peer.id, data.producerId);
      return {};
    },

    'media.pauseProducer': async (ctx, data) => {
      await joined(rooms, ctx).pauseProducer(ctx.peer.id, data.producerId, true);
      return {};
    },

    'media.resumeProducer': async (ctx, data) => {
      await joined(rooms, ctx).pauseProducer(ctx.peer.id, data.producerId, false);
      return {};
    },

    'media.pauseConsumer': async (ctx, data) => {
      await joined(rooms, ctx).pauseConsumer(ctx.peer.id, data.consumerId, true);
      return {};
    },

    'media.resumeConsumer': async (ctx, data) => {
      await joined(rooms, ctx).pauseConsumer(ctx.peer.id, data.consumerId, false);
      return {};
    },

    'media.setConsumerPreferredLayers': async (ctx, data) => {
      await joined(rooms, ctx).setConsumerPreferredLayers(
        ctx.peer.id,
        data.consumerId,
        data.spatialLayer,
        data.temporalLayer,
      );
      return {};
    },

    'media.getStats': async (ctx, data) => ({
      stats: await joined(rooms, ctx).getStats(ctx.peer.id, data.kind, data.id),
    }),
  };
}
