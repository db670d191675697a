import type { RoomDirectory } from '../rooms/ports.ts';
import type { GameManagerOptions } from './manager.ts';
import type { GameKind, GamePlayer } from './protocol.ts';
import type { RemoteRoomLife } from './remote.ts';
import { RoomLife } from './roomLife.ts';
import type { GameHost } from './host.ts';
import { LifeSaver } from './lifeSaver.ts';

interface Held {
  life: RoomLife;
  /** The members the life has been told of (here and on other nodes). */
  players: Set<string>;
  /** Keeps it in the shared store, for a node taking the room over. */
  saver: LifeSaver;
}

/**
 * The RoomLives this node runs (each room's life runs on one node of a cluster: its
 * authority), and what it knows of lives other nodes run (which rooms have a game there, so
 * that chat is screened by the authority only while a game runs). A life run here is kept in
 * the shared store on every change (LifeSaver); a life this node starts running is first
 * restored from there, so a room taken over from a node that died carries on its game. A
 * life this node runs no more (it was frozen or cut off, and another node took the room over)
 * is dropped without a word (`lose`): noticed by a refused save, by a read of the claim before
 * one of its timers speaks, or when the module checks (`check`).
 */
export class Lives {
  readonly #rooms: RoomDirectory;
  readonly #engine: Omit<GameManagerOptions, 'host'> | undefined;
  readonly #host: (roomId: string) => GameHost;
  readonly #remote: () => RemoteRoomLife | undefined;
  readonly #lost: (roomId: string) => void;
  readonly #held = new Map<string, Held>();
  /** Lives being restored from the store (the first caller's; the others wait for it). */
  readonly #pending = new Map<string, Promise<RoomLife>>();
  /** Rooms whose life runs elsewhere with a game going: room → [node, kind]. */
  readonly #gamesElsewhere = new Map<string, [string, GameKind]>();

  constructor(opts: {
    rooms: RoomDirectory;
    engine: Omit<GameManagerOptions, 'host'> | undefined;
    host: (roomId: string) => GameHost;
    remote: () => RemoteRoomLife | undefined;
    /** A life run here was dropped: another node holds its room now (`lose`). */
    lost: (roomId: string) => void;
  }) {
    this.#rooms = opts.rooms;
    this.#engine = opts.engine;
    this.#host = opts.host;
    this.#remote = opts.remote;
    this.#lost = opts.lost;
  }

  get(roomId: string): RoomLife | undefined {
    return this.#held.get(roomId)?.life;
  }

  /**
   * The room's life, run here, told of everyone in the room now. New here, it is restored
   * from what the room's last authority saved (when any of its members are still here).
   */
  async take(roomId: string): Promise<RoomLife> {
    const held = this.#held.get(roomId);
    if (held) {
      this.#sync(held, roomId, undefined);
      return held.life;
    }
    let pending = this.#pending.get(roomId);
    if (!pending) {
      pending = this.#create(roomId).finally(() => this.#pending.delete(roomId));
      this.#pending.set(roomId, pending);
    }
    return pending;
  }

  async #create(roomId: string): Promise<RoomLife> {
    const remote = this.#remote();
    const saved = (await remote?.loadLife(roomId)) ?? null;
    const base = this.#host(roomId);
    const saver = new LifeSaver(
      () => this.#held.get(roomId)?.life,
      (write) => this.#remote()?.saveLife(roomId, write) ?? Promise.resolve('saved'),
      () => this.lose(roomId),
    );
    const host: GameHost = {
      ...base,
      broadcast: (event) => (base.broadcast(event), saver.touch()),
      send: (memberId, event) => (base.send(memberId, event), saver.touch()),
      schedule: (delayMs, fire) => this.#schedule(roomId, () => life, base, delayMs, fire),
    };
    const life = new RoomLife({ ...this.#engine, host });
    const held: Held = { life, players: new Set(), saver };
    const present = new Set(this.#present(roomId, undefined).keys());
    // A room emptied since it was saved starts afresh.
    const carried = saved?.life.members.filter(([id]) => present.has(id)) ?? [];
    let restored = false;
    if (saved && carried.length > 0) {
      restored = await life.restore(saved.life, saved.strokes);
      for (const [id] of saved.life.members) held.players.add(id);
      saver.restored(life);
    }
    const lost = this.#gamesElsewhere.get(roomId);
    this.#held.set(roomId, held);
    this.#gamesElsewhere.delete(roomId);
    if (this.#sync(held, roomId, undefined) === 0) {
      this.forget(roomId);
      return life;
    }
    if (saved && carried.length > 0) life.announce(carried.map(([id]) => id));
    if (lost && !restored) {
      // A game ran on a node that is gone and nothing of it was kept: over, for everyone.
      base.broadcast({
        method: 'game.ended',
        data: { kind: lost[1], reason: 'stopped', winners: [], scores: [] },
      });
    }
    saver.touch();
    return life;
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

  /**
   * Whether this node still holds the room (its claim read): a life run here whose room
   * another node holds now is dropped (`lose`). True when the store cannot say: an outage
   * must not drop a life that is still ours.
   */
  async check(roomId: string): Promise<boolean> {
    const ours = await this.#remote()?.holds(roomId);
    if (ours !== false) return true;
    this.lose(roomId);
    return false;
  }

  /** The rooms whose life runs here. */
  heldRooms(): string[] {
    return [...this.#held.keys()];
  }

  /**
   * Another node holds the room now: the life here is stale. Dropped without a word (its game
   * halted, no game.ended, the claim not given up: it is not ours), its members routed to
   * the holder from now on.
   */
  lose(roomId: string): void {
    const held = this.#held.get(roomId);
    if (!held) return;
    this.#held.delete(roomId);
    held.saver.close();
    held.life.suspend();
    this.#lost(roomId);
  }

  forget(roomId: string): void {
    const held = this.#held.get(roomId);
    this.#gamesElsewhere.delete(roomId);
    if (!held) return;
    this.#held.delete(roomId);
    held.saver.close();
    held.life.roomEmptied();
    this.#remote()?.release(roomId);
  }

  /**
   * This node stops: a life whose room goes on elsewhere is saved as it is and left (no
   * game.ended), for the node that takes the room over; the others are forgotten.
   */
  async closeAll(): Promise<void> {
    for (const [roomId, held] of [...this.#held]) {
      if ((this.#remote()?.members(roomId).length ?? 0) === 0) {
        this.forget(roomId);
        continue;
      }
      held.saver.touch();
      await held.saver.flushed();
      held.saver.close();
      this.#held.delete(roomId);
      held.life.suspend();
    }
  }

  /** The node running a game of this room, when it is another one. */
  gameElsewhere(roomId: string): [string, GameKind] | undefined {
    return this.#gamesElsewhere.get(roomId);
  }

  gameSeen(roomId: string, nodeId: string, kind: GameKind | null): void {
    if (kind === null) this.#gamesElsewhere.delete(roomId);
    else if (!this.#held.has(roomId)) this.#gamesElsewhere.set(roomId, [nodeId, kind]);
  }

  /** A node left: the rooms with members here whose game ran there (to be taken over). */
  gamesOn(nodeId: string): string[] {
    return [...this.#gamesElsewhere].filter(([, [at]]) => at === nodeId).map(([r]) => r);
  }

  /**
   * A timer of a life run here. In a cluster, the room's claim is read before it fires (a
   * node frozen or cut off meanwhile may have lost the room: its timer must not speak for a
   * stale life); cancelled during the read, or the life dropped, it does not fire.
   */
  #schedule(
    roomId: string,
    life: () => RoomLife,
    base: GameHost,
    delayMs: number,
    fire: () => void,
  ): () => void {
    if (!this.#remote()) return base.schedule(delayMs, fire);
    let cancelled = false;
    const cancel = base.schedule(delayMs, () => {
      void this.check(roomId).then((ours) => {
        if (ours && !cancelled && this.get(roomId) === life()) fire();
      });
    });
    return () => {
      cancelled = true;
      cancel();
    };
  }

  /** Everyone in the room now (here and on other nodes), but `leaving`. */
  #present(roomId: string, leaving: string | undefined): Map<string, GamePlayer> {
    const now = new Map<string, GamePlayer>();
    for (const member of this.#rooms.members(roomId)) {
      if (member.id === leaving) continue;
      const nickname = this.#rooms.membership(member.id)?.nickname ?? member.id;
      now.set(member.id, { id: member.id, nickname });
    }
    for (const peer of this.#remote()?.members(roomId) ?? []) {
      if (peer.id !== leaving) now.set(peer.id, peer);
    }
    return now;
  }

  /** Tells the life who joined and left; answers how many members the room has. */
  #sync(held: Held, roomId: string, leaving: string | undefined): number {
    const now = this.#present(roomId, leaving);
    let changed = false;
    for (const id of [...held.players]) {
      if (now.has(id)) continue;
      held.players.delete(id);
      held.life.memberLeft(id);
      changed = true;
    }
    for (const [id, player] of now) {
      if (held.players.has(id)) continue;
      held.players.add(id);
      held.life.memberJoined(player);
      changed = true;
    }
    if (changed) held.saver.touch();
    return now.size;
  }
}
