import type { Config } from '@tutti/config';
import type { PeerInfo } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { Concern } from '../module/concern.ts';
import { WebhookSender } from './sender.ts';

export interface WebhooksModuleOptions {
  config: Config;
  log: Logger;
  /** The room's name while it exists (events carry it). */
  roomName(roomId: string): string | undefined;
  /** A member as its room has it now (a member that came over from another node). */
  memberInfo?(roomId: string, memberId: string): PeerInfo | undefined;
  /** The join token identity (`sub`) a member came with, when it did (admin module). */
  identityOf?(peerId: string): string | undefined;
}

/** A room with people in it, as the webhooks remember it (the name outlives a deletion). */
interface ActiveRoom {
  name: string;
  members: Map<string, Pick<PeerInfo, 'id' | 'nickname' | 'role'> & { identity?: string }>;
}

/**
 * Webhooks (docs/admin-api.md): room_started (its first member came in), participant_joined,
 * participant_left, room_finished (its last member left, or it was closed), POSTed to every
 * webhooks.urls receiver, signed. The room's hooks only enqueue (WebhookSender): a slow or
 * dead receiver never delays a join or a leave.
 */
export function createWebhooksModule(
  opts: WebhooksModuleOptions,
): Concern & { sender: WebhookSender } {
  const { webhooks } = opts.config;
  const sender = new WebhookSender(
    { ...webhooks, secret: webhooks.secret ?? '' },
    opts.log.child({ module: 'webhooks' }),
  );
  const active = new Map<string, ActiveRoom>();
  const roomOf = (id: string, room: ActiveRoom) => ({ room: { id, name: room.name } });

  return {
    sender,
    rooms: {
      memberJoined(roomId, peer, firstIn) {
        if (webhooks.urls.length === 0) return;
        let room = active.get(roomId);
        if (!room || firstIn) {
          room = { name: opts.roomName(roomId) ?? '', members: new Map() };
          active.set(roomId, room);
          sender.send('room_started', roomOf(roomId, room));
        }
        const participant = participantOf(peer, opts.identityOf?.(peer.id));
        room.members.set(peer.id, participant);
        sender.send('participant_joined', { ...roomOf(roomId, room), participant });
      },
      // Resumed through this node (federation/handover.ts): not a join, but its leave here
      // is reported with who it is (no room_started: the room was started elsewhere).
      memberArrived(roomId, member) {
        const peer = opts.memberInfo?.(roomId, member.id);
        if (webhooks.urls.length === 0 || !peer) return;
        let room = active.get(roomId);
        if (!room)
          active.set(roomId, (room = { name: opts.roomName(roomId) ?? '', members: new Map() }));
        room.members.set(peer.id, participantOf(peer, opts.identityOf?.(peer.id)));
      },
      // Went over to another node: not a leave; the room goes on there.
      memberDeparted(roomId, memberId, roomEmpty) {
        active.get(roomId)?.members.delete(memberId);
        if (roomEmpty) active.delete(roomId);
      },
      memberLeft(roomId, memberId, roomEmpty) {
        const room = active.get(roomId);
        if (!room) return;
        const participant = room.members.get(memberId) ?? { id: memberId, nickname: '' };
        room.members.delete(memberId);
        sender.send('participant_left', { ...roomOf(roomId, room), participant });
        if (roomEmpty) {
          active.delete(roomId);
          sender.send('room_finished', roomOf(roomId, room));
        }
      },
    },
    close: () => sender.close(),
  };
}

function participantOf(
  peer: PeerInfo,
  identity: string | undefined,
): Pick<PeerInfo, 'id' | 'nickname' | 'role'> & { identity?: string } {
  return {
    id: peer.id,
    nickname: peer.nickname,
    ...(peer.role && { role: peer.role }),
    ...(identity !== undefined && { identity }),
  };
}
