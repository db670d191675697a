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
  /** Per room: the store write in flight, and the value to write after it (latest wins). */
  readonly #writes = new Map<string, { done: Promise<void>; next?: number | null }>();

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

  /** Resolves once every idle-clock write in flight has reached the store (or failed). */
  async settled(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all([...this.#writes.values()].map((w) => w.done));
  }

  #set(room: Room, at: number | null): void {
    room.setEmptySince(at);
    this.#persist(room.id, at);
  }

  /**
   * One write per room at a time, so a quick leave-then-join can't land in the store in the
   * wrong order; values set meanwhile collapse into the latest. A failed write is logged: the
   * clock in memory stays right, and a restart starts the clock of empty rooms anew.
   */
  #persist(roomId: string, at: number | null): void {
    const pending = this.#writes.get(roomId);
    if (pending) {
      pending.next = at;
      return;
    }
    const write: { done: Promise<void>; next?: number | null } = { done: Promise.resolve() };
    write.done = (async () => {
      let value: number | null | undefined = at;
      while (value !== undefined) {
        try {
          await this.#store.setEmptySince(roomId, value);
        } catch (err) {
          this.#log.warn({ err, roomId }, 'room idle clock not stored');
        }
        value = write.next;
        delete write.next;
      }
      this.#writes.delete(roomId);
    })();
    this.#writes.set(roomId, write);
  }
}
