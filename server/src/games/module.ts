import {
  GAME_REQUEST_METHODS,
  TuttiError,
  type GameRequestMethod,
  type RoomLifeJoinExtras,
} from '@tutti/protocol';
import type { Concern } from '../module/concern.ts';
import {
  prepareNotification,
  type HandlerTable,
  type PreparedNotification,
  type RequestContext,
  type RoomDirectory,
} from '../rooms/ports.ts';
import { systemClock, type GameHost } from './host.ts';
import { Lives } from './lives.ts';
import type { GameManagerOptions } from './manager.ts';
import type { GameEvent, GameSnapshot } from './protocol.ts';
import type { RemoteRoomLife, RoomLifeService } from './remote.ts';

export interface GamesModuleOptions {
  rooms: RoomDirectory;
  /** Engine settings (word lists, randomness, pauses); tests shorten them. */
  engine?: Omit<GameManagerOptions, 'host'>;
  /** The other nodes of a cluster (federation/roomLifeRelay.ts); lazily, it is wired later. */
  remote?: () => RemoteRoomLife | undefined;
}

const NO_LIFE: RoomLifeJoinExtras = { game: null, hands: { queue: [] } };
const withheld = () =>
  new TuttiError('FORBIDDEN', 'NOT_ALLOWED: the drawer cannot give the word away');

/**
 * Room life (issue 14): games, reactions and raised hands. Each room's life runs on one node
 * of the cluster, its authority (the first node that needed it; a single node is its own):
 * there one RoomLife holds the game and the hand queue for the members of every node. The
 * other nodes forward their members' requests to it (RemoteRoomLife) and hand its events on
 * to their members. Members are identified by their protoo peer id (`PeerInfo.id`): a
 * reconnect arrives under a new id, so it is a new player (the old seat is given up when the
 * old connection leaves). Owners and moderators (PeerInfo.role) may lower others' hands and
 * stop others' games.
 */
export function createGamesModule(opts: GamesModuleOptions): Concern & {
  /** Chat's screen: a guess may score; the CatchMind drawer typing the word is refused. */
  screenChat(roomId: string, senderId: string, text: string): Promise<void>;
  /** Requests and events of other nodes (the federation calls it). */
  service: RoomLifeService;
} {
  const { rooms } = opts;
  const remote = () => opts.remote?.();
  const lives: Lives = new Lives({
    rooms,
    engine: opts.engine,
    remote,
    host: (roomId) => roomHost(rooms, roomId, remote),
    lost: (roomId) => void followHolder(roomId),
  });
  /**
   * The node running the room's life, undefined when it is this one. Another one: a life
   * still run here is stale (this node lost the room while frozen or cut off), and dropped.
   */
  const authority = async (roomId: string): Promise<string | undefined> => {
    const at = await remote()?.authority(roomId);
    if (at && lives.get(roomId)) lives.lose(roomId);
    return at;
  };
  /**
   * This node lost the room (its life dropped): its members here may have missed the
   * holder's takeover, so each is told the game and the hand queue as the holder has them,
   * and their chat is screened there from now on.
   */
  const followHolder = async (roomId: string): Promise<void> => {
    const at = await authority(roomId).catch(() => undefined);
    if (!at) return; // Unreachable, or ours again: the next request of the room settles it.
    for (const member of rooms.members(roomId)) {
      const extras = await remote()!
        .joinExtras(at, roomId, member.id)
        .catch(() => undefined);
      if (!extras) return;
      lives.gameSeen(roomId, at, extras.game?.kind ?? null);
      if (extras.game) void member.notifyPrepared(prepare(snapshotEvent(extras.game)));
      void member.notifyPrepared(prepare({ method: 'hand.queue', data: extras.hands }));
    }
  };

  const handlers: HandlerTable = {};
  for (const method of GAME_REQUEST_METHODS) {
    const handler = async ({ peer }: RequestContext, data: unknown) => {
      const { roomId, role } = rooms.requireMembership(peer.id);
      const at = await authority(roomId);
      if (at) return remote()!.request(at, roomId, peer.id, method, data);
      const moderator = role !== 'participant'; // Owners and moderators (server/src/moderation).
      return (await lives.take(roomId)).handle({ memberId: peer.id, moderator }, method, data);
    };
    (handlers as Record<GameRequestMethod, unknown>)[method] = handler;
  }

  const service: RoomLifeService = {
    async handle(roomId, caller, method, data) {
      if (await authority(roomId)) {
        throw new TuttiError(
          'MEDIA_UNAVAILABLE',
          'this room’s games moved to another node; try again',
        );
      }
      return (await lives.take(roomId)).handle(caller, method, data);
    },
    async joinExtras(roomId, memberId) {
      if (await authority(roomId)) return NO_LIFE;
      return (await lives.take(roomId)).joinExtras(memberId);
    },
    async chat(roomId, memberId, text) {
      return lives.get(roomId)?.chat(memberId, text) ?? 'none';
    },
    deliver(from, roomId, event, to) {
      // Another node speaks for a room whose life runs here: one of the two lost it.
      if (lives.get(roomId)) void lives.check(roomId);
      if (event.method === 'game.started' || event.method === 'game.snapshot')
        lives.gameSeen(roomId, from, event.data.game.kind);
      else if (event.method === 'game.ended') lives.gameSeen(roomId, from, null);
      const prepared = prepare(event);
      for (const member of rooms.members(roomId)) {
        if (to === undefined || member.id === to) void member.notifyPrepared(prepared);
      }
    },
    membersChanged: (roomId) => lives.changed(roomId),
    recheck() {
      for (const roomId of lives.heldRooms()) void lives.check(roomId);
    },
    nodeGone(nodeId) {
      // Its games go on: one node with members takes each room over (a compare-and-set on
      // the gone holder) and carries the game on from the store; the others follow it.
      for (const roomId of lives.gamesOn(nodeId)) {
        void (async () => {
          if (!(await authority(roomId))) await lives.take(roomId);
        })().catch(() => {}); // Unreachable store: the next request of the room tries again.
      }
    },
  };

  return {
    handlers,
    service,
    rooms: {
      // Admitted in this tick: the member is a player from now on, and is told the game.
      async joinAnswer(roomId, member) {
        const at = await authority(roomId);
        if (!at) return (await lives.take(roomId)).joinExtras(member.id);
        const extras = await remote()!.joinExtras(at, roomId, member.id);
        if (extras.game) lives.gameSeen(roomId, at, extras.game.kind);
        return extras;
      },
      memberLeft(roomId, memberId, roomEmpty) {
        // The room may go on elsewhere: the life here keeps it while anyone is left anywhere.
        if (roomEmpty && (!remote() || !lives.get(roomId))) lives.forget(roomId);
        else lives.changed(roomId, memberId);
      },
      // Resumed on or from another node: the same player, now on another node.
      memberArrived: (roomId) => lives.changed(roomId),
      memberDeparted: (roomId) => lives.changed(roomId),
      roomDeleted: (roomId) => lives.forget(roomId),
    },
    async screenChat(roomId, senderId, text) {
      const life = lives.get(roomId);
      // Judged here while the room is still ours (its claim is read only while a game runs).
      if (life && (life.games.kind === undefined || (await lives.check(roomId)))) {
        if (life.chat(senderId, text) === 'withhold') throw withheld();
        return;
      }
      // Just lost, the room's game is not known here yet: its holder judges this one.
      const at = lives.gameElsewhere(roomId)?.[0] ?? (life && (await authority(roomId)));
      if (!at) return;
      // The game's node judges it; unreachable, the message is chat like any other.
      const outcome = await remote()!
        .chat(at, roomId, senderId, text)
        .catch(() => 'none');
      if (outcome === 'withhold') throw withheld();
    },
    close: () => lives.closeAll(),
  };
}

/**
 * A room's GameHost: notifications to the room's members, on this node directly and on the
 * others through the federation; wall-clock timers.
 */
function roomHost(
  rooms: RoomDirectory,
  roomId: string,
  remote: () => RemoteRoomLife | undefined,
): GameHost {
  return {
    ...systemClock,
    broadcast(event) {
      let prepared: PreparedNotification | undefined;
      for (const member of rooms.members(roomId)) {
        prepared ??= prepare(event);
        void member.notifyPrepared(prepared);
      }
      remote()?.publish(roomId, event);
    },
    send(memberId, event) {
      for (const member of rooms.members(roomId)) {
        if (member.id === memberId) return void member.notifyPrepared(prepare(event));
      }
      remote()?.publish(roomId, event, memberId);
    },
  };
}

const snapshotEvent = (game: GameSnapshot): GameEvent => ({
  method: 'game.snapshot',
  data: { game },
});

function prepare(event: GameEvent): PreparedNotification {
  // GameEvent pairs each method with its data; TypeScript cannot follow that through a union.
  return prepareNotification(event.method, event.data as never);
}
