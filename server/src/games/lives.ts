import type { RoomDirectory } from '../rooms/ports.ts';
import type { GameManagerOptions } from './manager.ts';
import type { GameKind, GamePlayer, HandQueueState } from './protocol.ts';
import type { RemoteRoomLife } from './remote.ts';
import { RoomLife } from './roomLife.ts';
import type { GameHost } from './host.ts';

interface Held {
  life: RoomLife;
  /** The members the life has been told of (here and on other nodes). */
  players: Set<string>;
}

/**
 * The RoomLives this node runs (each room's life runs on one node of a cluster: its
 * authority), and what it knows of lives other nodes run (which rooms have a game there, so
 * that chat is screened by the authority only while a game runs).
 */
export class Lives {
  readonly #rooms: RoomDirectory;
  readonly #engine: Omit<GameManagerOptions, 'host'> | undefined;
  readonly #host: (roomId: string) => GameHost;
  readonly #remote: () => RemoteRoomLife | undefined;
  readonly #held = new Map<string, Held>();
  /** Rooms whose life runs elsewhere with a game going: room → [node, kind]. */
  readonly #gamesElsewhere = new Map<string, [string, GameKind]>();
  /** The last hand queue heard of rooms whose life runs elsewhere (taken over if it dies). */
  readonly #handsElsewhere = new Map<string, HandQueueState>();

  constructor(opts: {
    rooms: RoomDirectory;
    engine: Omit<GameManagerOptions, 'host'> | undefined;
    host: (roomId: string) => GameHost;
    remote: () => RemoteRoomLife | undefined;
  }) {
    this.#rooms = opts.rooms;
    this.#engine = opts.engine;
    this.#host = opts.host;
    this.#remote = opts.remote;
  }

  get(roomId: string): RoomLife | undefined {
    return this.#held.get(roomId)?.life;
  }

  /** The room's life, run here (created if need be), told of everyone in the room now. */
  hold(roomId: string, leaving?: string): RoomLife {
    let held = this.#held.get(roomId);
    if (!held) {
      held = {
        life: new RoomLife({ ...this.#engine, host: this.#host(roomId) }),
        players: new Set(),
      };
      this.#held.set(roomId, held);
      this.#gamesElsewhere.delete(roomId);
      this.#sync(held, roomId, leaving);
      const hands = this.#handsElsewhere.get(roomId);
      this.#handsElsewhere.delete(roomId);
      const players = held.players;
      if (hands?.queue.length) held.life.restoreHands(hands, (id) => players.has(id));
      return held.life;
    }
    this.#sync(held, roomId, leaving);
    return held.life;
  }

  /**
   * Members came or went (here or elsewhere): a life run here learns it; one whose room has
   * nobody left anywhere is dropped (and the room's authority given up).
   */
  changed(roomId: string, leaving?: string): void {
    const held = this.#held.get(roomId);
    if (!held) return;
    if (this.#sync(held, roomId, leaving) === 0) this.forget(roomId);
  }

  forget(roomId: string): void {
    const held = this.#held.get(roomId);
    this.#gamesElsewhere.delete(roomId);
    this.#handsElsewhere.delete(roomId);
    if (!held) return;
    this.#held.delete(roomId);
    held.life.roomEmptied();
    this.#remote()?.release(roomId);
  }

  forgetAll(): void {
    for (const roomId of [...this.#held.keys()]) this.forget(roomId);
  }

  /** The node running a game of this room, when it is another one. */
  gameElsewhere(roomId: string): [string, GameKind] | undefined {
    return this.#gamesElsewhere.get(roomId);
  }

  gameSeen(roomId: string, nodeId: string, kind: GameKind | null): void {
    if (kind === null) this.#gamesElsewhere.delete(roomId);
    else if (!this.#held.has(roomId)) this.#gamesElsewhere.set(roomId, [nodeId, kind]);
  }

  handsSeen(roomId: string, state: HandQueueState): void {
    if (!this.#held.has(roomId)) this.#handsElsewhere.set(roomId, state);
  }

  /** A node left: the games it ran for rooms with members here are over. */
  nodeGone(nodeId: string): [string, GameKind][] {
    const ended: [string, GameKind][] = [];
    for (const [roomId, [at, kind]] of this.#gamesElsewhere) {
      if (at !== nodeId) continue;
      this.#gamesElsewhere.delete(roomId);
      ended.push([roomId, kind]);
    }
    return ended;
  }

  /** Tells the life who joined and left; answers how many members the room has. */
  #sync(held: Held, roomId: string, leaving: string | undefined): number {
    const now = new Map<string, GamePlayer>();
    for (const member of this.#rooms.members(roomId)) {
      if (member.id === leaving) continue;
      const nickname = this.#rooms.membership(member.id)?.nickname ?? member.id;
      now.set(member.id, { id: member.id, nickname });
    }
    for (const peer of this.#remote()?.members(roomId) ?? []) {
      if (peer.id !== leaving) now.set(peer.id, peer);
    }
    for (const id of [...held.players]) {
      if (now.has(id)) continue;
      held.players.delete(id);
      held.life.memberLeft(id);
    }
    for (const [id, player] of now) {
      if (held.players.has(id)) continue;
      held.players.add(id);
      held.life.memberJoined(player);
    }
    return now.size;
  }
}
