import type { Config } from '@tutti/config';
import type { PeerInfo } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { Concern } from '../module/concern.ts';
import type { RoomSessions } from './roomSessions.ts';
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
  /**
   * Decides room_started / room_finished for the whole cluster (federation/roomSessions.ts).
   * Without it, or while it fails, this node decides alone: its first member in, its last out.
   */
  sessions?: RoomSessions;
}

type Participant = Pick<PeerInfo, 'id' | 'nickname' | 'role'> & { identity?: string };

/** A room with people on this node, as the webhooks remember it (the name outlives a deletion). */
interface ActiveRoom {
  name: string;
  members: Map<string, Participant>;
}

/**
 * Webhooks (docs/admin-api.md): room_started (its first member in the cluster came in),
 * participant_joined, participant_left, room_finished (its last member in the cluster left,
 * or it was closed), POSTed to every webhooks.urls receiver, signed. Participant events are
 * this node's members'; a room's start and finish are decided cluster-wide (`sessions`). The
 * room's hooks only enqueue: a slow or dead receiver, or Redis, never delays a join or a
 * leave. One room's events leave this node in the order its hooks ran (one chain per room).
 */
export function createWebhooksModule(
  opts: WebhooksModuleOptions,
): Concern & { sender: WebhookSender } {
  const { webhooks } = opts.config;
  const log = opts.log.child({ module: 'webhooks' });
  const sender = new WebhookSender({ ...webhooks, secret: webhooks.secret ?? '' }, log);
  const active = new Map<string, ActiveRoom>();
  const chains = new Map<string, Promise<void>>();
  const roomOf = (id: string, name: string) => ({ room: { id, name } });

  /** Runs `step` after the room's earlier steps (a failing one never stops the next). */
  const inTurn = (roomId: string, step: () => Promise<void>) => {
    const next = (chains.get(roomId) ?? Promise.resolve()).then(step).catch((err: unknown) => {
      log.warn({ err, roomId }, 'webhooks: event not decided');
    });
    chains.set(roomId, next);
    void next.then(() => {
      if (chains.get(roomId) === next) chains.delete(roomId);
    });
  };
  /** The cluster's answer, or (no cluster, or it failed) this node's own view. */
  const decide = async <T>(ask: (() => Promise<T>) | undefined, alone: T): Promise<T> => {
    if (!ask) return alone;
    try {
      return await ask();
    } catch (err) {
      log.warn({ err }, 'webhooks: the cluster did not decide; this node decides alone');
      return alone;
    }
  };
  const { sessions } = opts;
  sessions?.onFinished((roomId, name) =>
    inTurn(roomId, async () => sender.send('room_finished', roomOf(roomId, name))),
  );
  // Taken for dead and back: our members are in again (a run finished for them restarts).
  sessions?.onReturned(() => {
    for (const [roomId, { name, members }] of active) {
      for (const memberId of members.keys()) {
        inTurn(roomId, async () => {
          if (await sessions.joined(roomId, memberId, name))
            sender.send('room_started', roomOf(roomId, name));
        });
      }
    }
  });

  return {
    sender,
    rooms: {
      memberJoined(roomId, peer, firstIn) {
        if (webhooks.urls.length === 0) return;
        let room = active.get(roomId);
        if (!room || firstIn) {
          room = { name: opts.roomName(roomId) ?? '', members: new Map() };
          active.set(roomId, room);
        }
        const { name } = room;
        const participant = participantOf(peer, opts.identityOf?.(peer.id));
        room.members.set(peer.id, participant);
        inTurn(roomId, async () => {
          const ask = sessions && (() => sessions.joined(roomId, peer.id, name));
          if (await decide(ask, firstIn)) sender.send('room_started', roomOf(roomId, name));
          sender.send('participant_joined', { ...roomOf(roomId, name), participant });
        });
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
        if (sessions) inTurn(roomId, () => sessions.arrived(roomId, peer.id));
      },
      // Went over to another node: not a leave; the room goes on there.
      memberDeparted(roomId, memberId, roomEmpty) {
        if (active.get(roomId)?.members.delete(memberId)) sessions?.departed(roomId, memberId);
        if (roomEmpty) active.delete(roomId);
      },
      memberLeft(roomId, memberId, roomEmpty) {
        const room = active.get(roomId);
        if (!room) return;
        const participant = room.members.get(memberId) ?? { id: memberId, nickname: '' };
        room.members.delete(memberId);
        if (roomEmpty) active.delete(roomId);
        inTurn(roomId, async () => {
          sender.send('participant_left', { ...roomOf(roomId, room.name), participant });
          const ask = sessions && (() => sessions.left(roomId, memberId, roomEmpty));
          const finished = await decide(ask, roomEmpty ? room.name : undefined);
          if (finished !== undefined) sender.send('room_finished', roomOf(roomId, finished));
        });
      },
    },
    async close() {
      // The decisions under way first (bounded by the cluster's timeouts), then the queues.
      await Promise.all(chains.values());
      await sender.close();
    },
  };
}

function participantOf(peer: PeerInfo, identity: string | undefined): Participant {
  return {
    id: peer.id,
    nickname: peer.nickname,
    ...(peer.role && { role: peer.role }),
    ...(identity !== undefined && { identity }),
  };
}
