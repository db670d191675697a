import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../kernel/log.ts';
import type { RegistryHands } from '../rooms/federationPort.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { RoomStore } from '../store/RoomStore.ts';

export interface SharedRecordsDeps {
  rooms: RoomRegistry;
  hands: RegistryHands;
  store: RoomStore;
  log: Logger;
}

/**
 * Room records as the cluster shares them: through the store (PostgreSQL), never on the bus.
 * A room this node does not know is loaded on a miss; a change or deletion announced by
 * another node is applied to this node's copy.
 */
export class SharedRecords {
  readonly #d: SharedRecordsDeps;
  /** Records being loaded from the store, per room (one load at a time). */
  readonly #loading = new Map<string, Promise<Room | undefined>>();

  constructor(deps: SharedRecordsDeps) {
    this.#d = deps;
  }

  find(roomId: string): Promise<Room | undefined> {
    const pending = this.#loading.get(roomId);
    if (pending) return pending;
    const load = this.#load(roomId).finally(() => this.#loading.delete(roomId));
    this.#loading.set(roomId, load);
    return load;
  }

  /** Another node created or changed the record: read it from the shared store. */
  async reload(roomId: string): Promise<void> {
    try {
      const room = this.#d.rooms.get(roomId);
      if (!room) return void (await this.find(roomId));
      await this.#refresh(room);
    } catch (err) {
      this.#d.log.warn({ err, roomId }, 'presence: a changed room could not be reloaded');
    }
  }

  /**
   * Before a join is checked (password, capacity): this node's copy as the store has it now.
   * Another node's change is announced on the bus and may not have arrived yet; a password
   * set there must already hold here. With the store unreachable the copy is kept.
   */
  async current(room: Room): Promise<void> {
    try {
      await this.#refresh(room);
    } catch (err) {
      this.#d.log.warn({ err, roomId: room.id }, 'presence: joining on this node’s copy');
    }
  }

  async #refresh(room: Room): Promise<void> {
    const record = await this.#read(room.id);
    if (!record || room.closed) return;
    const next = { ...record, emptySince: room.record.emptySince };
    if (isDeepStrictEqual(next, room.record)) return;
    room.replaceRecord(next);
    this.#d.hands.refreshed(room);
  }

  /** Another node deleted the room (store and history): its members here are told and go. */
  async dropped(roomId: string): Promise<void> {
    const room = this.#d.rooms.get(roomId);
    if (!room) return;
    this.#d.hands.forget(roomId);
    this.#d.hands.lobbyChanged();
    await room.close('deleted');
  }

  async #load(roomId: string): Promise<Room | undefined> {
    const record = await this.#read(roomId);
    if (!record) return undefined;
    const known = this.#d.rooms.get(roomId);
    if (known) return known;
    const room = this.#d.hands.add(record);
    this.#d.hands.lobbyChanged();
    return room;
  }

  #read(roomId: string) {
    return this.#d.store.get(roomId);
  }
}
