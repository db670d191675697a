import type { Config } from '@tutti/config';
import type { Logger } from '../kernel/log.ts';
import type { RoomStore } from '../store/RoomStore.ts';
import type { Room } from './Room.ts';

/**
 * The idle clock of rooms: when a room became empty (persisted, so it survives restarts),
 * which rooms have been empty longer than rooms.idleTtlSeconds, and the periodic sweep.
 */
export class IdleRooms {
  readonly #store: RoomStore;
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #intervalMs: number;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: { config: Config; store: RoomStore; now: () => number; log: Logger }) {
    this.#store = opts.store;
    this.#now = opts.now;
    this.#ttlMs = opts.config.rooms.idleTtlSeconds * 1000;
    this.#intervalMs = opts.config.rooms.cleanupIntervalSeconds * 1000;
    this.#log = opts.log;
  }

  /** Keeps `room`'s emptySince current: set when the last member leaves, cleared on a join. */
  watch(room: Room): void {
    room.on('empty', () => this.#set(room, this.#now()));
    room.on('changed', () => {
      if (room.size > 0 && room.record.emptySince !== null) this.#set(room, null);
    });
  }

  /** A room loaded at start-up: everybody was disconnected by the restart, its clock starts now. */
  restarted(room: Room): void {
    if (room.record.emptySince === null) this.#set(room, this.#now());
  }

  expired(rooms: Iterable<Room>): Room[] {
    const now = this.#now();
    return [...rooms].filter(
      (r) =>
        r.size === 0 && r.record.emptySince !== null && now - r.record.emptySince >= this.#ttlMs,
    );
  }

  /** Runs `sweep` every rooms.cleanupIntervalSeconds (the timer does not keep the process up). */
  start(sweep: () => Promise<unknown>): void {
    this.stop();
    this.#timer = setInterval(() => {
      sweep().catch((err: unknown) => this.#log.error({ err }, 'room cleanup failed'));
    }, this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #set(room: Room, at: number | null): void {
    room.setEmptySince(at);
    this.#store.setEmptySince(room.id, at);
  }
}
