import type { MediaClient } from '../media/MediaClient.ts';
import type { RoomStores } from '../state/stores.ts';
import type { Signaling } from '../signaling.ts';

/**
 * Feeds the server's room, media and chat notifications into the stores (the room's
 * lifecycle — closed, media.restart, reconnects — is RoomSession's). Returns the
 * unsubscribers.
 */
export function bindNotifications(
  s: Signaling,
  media: MediaClient,
  { members, tracks, chat, local, notices }: RoomStores,
): (() => void)[] {
  return [
    s.on('room.peerJoined', ({ peer }) => {
      if (members.upsert(peer)) notices.add(`${peer.nickname} joined`);
    }),
    s.on('room.peerLeft', ({ peerId, nickname }) => {
      if (!members.remove(peerId)) return;
      tracks.removePeer(peerId);
      notices.add(`${nickname} left`);
    }),
    s.on('room.peerUpdated', ({ peer }) => members.update(peer)),
    s.on('room.updated', ({ room }) => {
      if (room.id === members.room.id) members.room = room;
    }),
    s.on('media.consumerClosed', ({ consumerId }) => media.closeConsumer(consumerId)),
    s.on('media.consumerPaused', ({ consumerId }) =>
      tracks.patch(consumerId, { producerPaused: true }),
    ),
    s.on('media.consumerResumed', ({ consumerId }) =>
      tracks.patch(consumerId, { producerPaused: false }),
    ),
    s.on('media.consumerLayersChanged', ({ consumerId, spatialLayer, temporalLayer }) =>
      tracks.patch(consumerId, { spatialLayer, temporalLayer }),
    ),
    s.on('media.consumerScore', ({ consumerId, score }) => tracks.patch(consumerId, { score })),
    s.on('media.producerScore', ({ producerId, score }) =>
      local.producerScores.set(producerId, score),
    ),
    s.on('media.activeSpeaker', ({ peerId }) => {
      members.activeSpeaker = peerId;
    }),
    s.on('media.audioLevels', ({ levels }) => members.setLevels(levels)),
    s.on('chat.message', ({ message }) => chat.add(message)),
  ];
}
