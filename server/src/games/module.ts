import { GAME_REQUEST_METHODS, TuttiError, type GameRequestMethod } from '@tutti/protocol';
import type { Concern } from '../module/concern.ts';
import {
  prepareNotification,
  type HandlerTable,
  type PreparedNotification,
  type RequestContext,
  type RoomDirectory,
} from '../rooms/ports.ts';
import { systemClock, type GameHost } from './host.ts';
import type { GameManagerOptions } from './manager.ts';
import type { GameEvent } from './protocol.ts';
import { RoomLife } from './roomLife.ts';

export interface GamesModuleOptions {
  rooms: RoomDirectory;
  /** Engine settings (word lists, randomness, pauses); tests shorten them. */
  engine?: Omit<GameManagerOptions, 'host'>;
}

/**
 * Room life (issue 14): games, reactions and raised hands, one RoomLife per room on this node.
 * Members are identified by their protoo peer id (`PeerInfo.id`): a reconnect arrives under a
 * new id, so it is a new player (the old seat is given up when the old connection leaves).
 * Owners and moderators (PeerInfo.role) may lower others' hands and stop others' games.
 */
export function createGamesModule(opts: GamesModuleOptions): Concern & {
  /** Chat's screen: a guess may score; the CatchMind drawer typing the word is refused. */
  screenChat(roomId: string, senderId: string, text: string): void;
} {
  const { rooms } = opts;
  const lives = new Map<string, RoomLife>();

  const lifeOf = (roomId: string): RoomLife => {
    let life = lives.get(roomId);
    if (!life) {
      life = new RoomLife({ ...opts.engine, host: roomHost(rooms, roomId) });
      lives.set(roomId, life);
    }
    return life;
  };
  const forget = (roomId: string): void => {
    lives.get(roomId)?.roomEmptied();
    lives.delete(roomId);
  };

  const handlers: HandlerTable = {};
  for (const method of GAME_REQUEST_METHODS) {
    const handler = ({ peer }: RequestContext, data: unknown) => {
      const { roomId, role } = rooms.requireMembership(peer.id);
      const moderator = role !== 'participant'; // Owners and moderators (server/src/moderation).
      return lifeOf(roomId).handle({ memberId: peer.id, moderator }, method, data);
    };
    (handlers as Record<GameRequestMethod, unknown>)[method] = handler;
  }

  return {
    handlers,
    rooms: {
      // Admitted in this tick: the member is a player from now on, and is told the game.
      joinAnswer(roomId, member) {
        const nickname = rooms.membership(member.id)?.nickname ?? member.id;
        const life = lifeOf(roomId);
        life.memberJoined({ id: member.id, nickname });
        return life.joinExtras(member.id);
      },
      memberLeft(roomId, memberId, roomEmpty) {
        if (roomEmpty) forget(roomId);
        else lives.get(roomId)?.memberLeft(memberId);
      },
      roomDeleted: forget,
    },
    screenChat(roomId, senderId, text) {
      if (lives.get(roomId)?.chat(senderId, text) === 'withhold') {
        throw new TuttiError('FORBIDDEN', 'NOT_ALLOWED: the drawer cannot give the word away');
      }
    },
    close() {
      for (const roomId of [...lives.keys()]) forget(roomId);
      return Promise.resolve();
    },
  };
}

/** A room's GameHost: notifications to this node's members of the room, wall-clock timers. */
function roomHost(rooms: RoomDirectory, roomId: string): GameHost {
  return {
    ...systemClock,
    broadcast(event) {
      let prepared: PreparedNotification | undefined;
      for (const member of rooms.members(roomId)) {
        prepared ??= prepare(event);
        void member.notifyPrepared(prepared);
      }
    },
    send(memberId, event) {
      for (const member of rooms.members(roomId)) {
        if (member.id === memberId) void member.notifyPrepared(prepare(event));
      }
    },
  };
}

function prepare(event: GameEvent): PreparedNotification {
  // GameEvent pairs each method with its data; TypeScript cannot follow that through a union.
  return prepareNotification(event.method, event.data as never);
}
