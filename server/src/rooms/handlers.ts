import type { IceSettings } from '@tutti/protocol';
import type { RtpParameters } from 'mediasoup/types';
import { assertE2eeCodecs } from './e2ee.ts';
import type { MemberMedia } from './MemberMedia.ts';
import type { HandlerTable, RequestContext } from './ports.ts';
import type { RoomRegistry } from './RoomRegistry.ts';

/**
 * Lobby, membership and media requests. `iceFor` gives a joiner its ICE servers (TURN
 * credentials minted for that peer) and transport policy.
 */
export function roomHandlers(
  rooms: RoomRegistry,
  iceFor: (peerId: string) => IceSettings,
): HandlerTable {
  /** The media of the member behind this request; NOT_JOINED outside a room. */
  const media = (ctx: RequestContext): MemberMedia => rooms.requireMember(ctx.peer).member.media;

  return {
    'lobby.subscribe': (ctx) => ({ rooms: rooms.subscribeLobby(ctx.peer) }),

    'room.create': (ctx, data) => rooms.create(data, ctx.peer.ip),

    'room.join': async (ctx, data) => {
      const joined = await rooms.join(ctx.peer, data.roomId, data.nickname, data.password);
      return { ...joined, ...iceFor(joined.self.id) };
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
      rtpCapabilities: await media(ctx).routerRtpCapabilities(),
    }),

    'media.createTransport': (ctx, data) =>
      media(ctx).createTransport(data.direction, data.forceTcp ?? false),

    'media.connectTransport': async (ctx, data) => {
      await media(ctx).connectTransport(data.transportId, data.dtlsParameters);
      return {};
    },

    'media.restartIce': async (ctx, data) => ({
      iceParameters: await media(ctx).restartIce(data.transportId),
    }),

    'media.ready': async (ctx, data) => {
      await media(ctx).ready(data.rtpCapabilities);
      return {};
    },

    'media.produce': async (ctx, data) => {
      const { room, member } = rooms.requireMember(ctx.peer);
      assertE2eeCodecs(room.record, data.rtpParameters as RtpParameters);
      return { producerId: await member.media.produce(data) };
    },

    'media.closeProducer': (ctx, data) => {
      media(ctx).closeProducer(data.producerId);
      return {};
    },

    'media.pauseProducer': async (ctx, data) => {
      await media(ctx).pauseProducer(data.producerId);
      return {};
    },

    'media.resumeProducer': async (ctx, data) => {
      await media(ctx).resumeProducer(data.producerId);
      return {};
    },

    'media.pauseConsumer': async (ctx, data) => {
      await media(ctx).pauseConsumer(data.consumerId);
      return {};
    },

    'media.resumeConsumer': async (ctx, data) => {
      await media(ctx).resumeConsumer(data.consumerId);
      return {};
    },

    'media.setConsumerPreferredLayers': async (ctx, data) => {
      await media(ctx).setConsumerPreferredLayers(
        data.consumerId,
        data.spatialLayer,
        data.temporalLayer,
      );
      return {};
    },

    'media.getStats': async (ctx, data) => ({
      stats: await media(ctx).getStats(data.kind, data.id),
    }),
  };
}
