import { TuttiError, type IceSettings } from '@tutti/protocol';
import type { RtpParameters } from 'mediasoup/types';
import { assertE2eeCodecs } from './e2ee.ts';
import type { MemberMedia } from './MemberMedia.ts';
import type { Admission, MediaGuard } from './admission.ts';
import { prepareJoinMedia, serverRtpCapabilities } from './joinMedia.ts';
import type { HandlerTable, JoinPolicy, RequestContext } from './ports.ts';
import type { RoomRegistry } from './RoomRegistry.ts';

/** Moderation's say (server/src/moderation): who may join and as whom, what a held mic may do. */
export interface RoomHandlerHooks {
  admission?: Admission;
  guard?: MediaGuard;
}

/**
 * Lobby, membership and media requests. `iceFor` gives a joiner its ICE servers (TURN
 * credentials minted for that peer) and transport policy; `policy` says who a joiner is.
 */
export function roomHandlers(
  rooms: RoomRegistry,
  iceFor: (peerId: string) => IceSettings,
  policy: JoinPolicy = async (_peer, { nickname }) => ({ nickname }),
  hooks: RoomHandlerHooks = {},
): HandlerTable {
  const { admission, guard } = hooks;
  /** The media of the member behind this request; NOT_JOINED outside a room. */
  const media = (ctx: RequestContext): MemberMedia => rooms.requireMember(ctx.peer).member.media;

  return {
    'lobby.subscribe': (ctx) => ({
      rooms: rooms.subscribeLobby(ctx.peer),
      routerRtpCapabilities: serverRtpCapabilities(),
    }),

    'room.create': async (ctx, data) =>
      rooms.create(data, ctx.peer.ip, (await admission?.accountOf(ctx.peer)) ?? null),

    'room.join': async (ctx, data) => {
      // Who joins (a join token, the guest rule), then moderation's say: signed-in only,
      // bars, the lock, the waiting room, and the role to join with.
      const grant = await policy(ctx.peer, data);
      const { nickname, role } = admission
        ? await admission.check(
            ctx.peer,
            { ...data, ...(grant.nickname !== undefined && { nickname: grant.nickname }) },
            grant.role && { role: grant.role },
          )
        : { nickname: grant.nickname, role: grant.role ?? ('participant' as const) };
      if (nickname === undefined) throw new TuttiError('INVALID_REQUEST', 'nickname: required');
      const joined = await rooms.join(ctx.peer, data.roomId, { nickname, role }, data.password);
      if (!data.media) return { ...joined, ...iceFor(joined.self.id) };
      // The one-reply join: transports (and consumers) in this answer; they are resumed
      // once it is out (the tick after it is sent). If that fails the member is still in:
      // the answer has no `media`, and the client takes the old path.
      const prepared = await prepareJoinMedia(media(ctx), data.media).catch(() => undefined);
      if (!prepared) return { ...joined, ...iceFor(joined.self.id) };
      setImmediate(prepared.sent);
      return { ...joined, ...iceFor(joined.self.id), media: prepared.answer };
    },

    'room.leave': (ctx) => {
      admission?.left(ctx.peer);
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
      guard?.produce(ctx.peer, data.source, data.paused ?? false);
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
      guard?.resume(ctx.peer, data.producerId);
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
