import type { PeerInfo, RoomSummary } from '@tutti/protocol';
import type { MemberChannel } from './ports.ts';
import type { RoomRegistry } from './RoomRegistry.ts';

/**
 * What a member resuming on a new socket is told (session.resume): itself and the others as
 * they are now, cluster-wide, since notifications sent into the dead socket may be lost.
 * NOT_JOINED if it is in no room.
 */
export function membershipSnapshot(
  rooms: RoomRegistry,
  channel: MemberChannel,
): { self: PeerInfo; peers: PeerInfo[]; room: RoomSummary } {
  const { room, member } = rooms.requireMember(channel);
  return {
    self: { ...member.info },
    peers: rooms.peersOf(room).filter((p) => p.id !== member.id),
    room: rooms.summaryOf(room),
  };
}
