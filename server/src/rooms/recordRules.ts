import type { Config } from '@tutti/config';
import { TuttiError } from '@tutti/protocol';
import { NameTakenError, type RoomRecord } from '../store/RoomStore.ts';
import type { Room } from './Room.ts';
import { roomNameKey } from './security.ts';

export interface RoomChanges {
  name?: string | undefined;
  /** null removes the password. */
  password?: string | null | undefined;
  capacity?: number | null | undefined;
}

/** ROOM_NAME_TAKEN if a room of this node already has the name (the store checks again). */
export function checkNameFree(rooms: Iterable<Room>, nameKey: string): void {
  for (const r of rooms) if (r.record.nameKey === nameKey) throw nameTaken();
}

export function checkCapacity(config: Config, capacity: number | undefined): void {
  const max = config.rooms.maxCapacity;
  if (capacity !== undefined && capacity > max) {
    throw new TuttiError('INVALID_REQUEST', `capacity: at most ${max}`);
  }
}

/** The record after an owner's changes (a new name must be free; a password is hashed). */
export async function changedRecord(
  record: Readonly<RoomRecord>,
  changes: RoomChanges,
  rooms: Iterable<Room>,
  hashPassword: (password: string) => Promise<string>,
): Promise<RoomRecord> {
  const next: RoomRecord = { ...record };
  if (changes.name !== undefined) {
    next.name = changes.name;
    next.nameKey = roomNameKey(changes.name);
    if (next.nameKey !== record.nameKey) checkNameFree(rooms, next.nameKey);
  }
  if (changes.password !== undefined) {
    next.passwordHash = changes.password === null ? null : await hashPassword(changes.password);
  }
  if (changes.capacity !== undefined) next.capacity = changes.capacity;
  return next;
}

/** A store write; its unique-name violation becomes ROOM_NAME_TAKEN. */
export async function persist(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (err instanceof NameTakenError) throw nameTaken();
    throw err;
  }
}

function nameTaken(): TuttiError {
  return new TuttiError('ROOM_NAME_TAKEN', 'a room with that name already exists');
}
