import type { DatabaseSync } from 'node:sqlite';
import { isUniqueViolation } from './sqlite.ts';

/** The moderation settings kept with a room (a lock is for one meeting: memory only). */
export interface StoredRoomSettings {
  waitingRoom: boolean;
  moderatorsUnmute: boolean;
  signedInOnly: boolean;
}

export const NO_ROOM_SETTINGS: StoredRoomSettings = {
  waitingRoom: false,
  moderatorsUnmute: false,
  signedInOnly: false,
};

/** A room as persisted. Secrets are stored only as hashes. */
export interface RoomRecord {
  id: string;
  name: string;
  /** roomNameKey(name): unique. */
  nameKey: string;
  passwordHash: string | null;
  capacity: number | null;
  ownerSecretHash: string;
  createdAt: number;
  /** When the room last became empty (null while people are in it). */
  emptySince: number | null;
  /** The account that created it (signed in), else null (a guest's room: owner secret only). */
  ownerAccountId: string | null;
  settings: StoredRoomSettings;
  /** End-to-end encrypted (fixed at creation): the server refuses to touch its media. */
  e2ee: boolean;
}

/**
 * Where rooms are kept. Async so PostgreSQL (a cluster) fits beside the embedded SQLite;
 * an outage rejects with STORE_UNAVAILABLE within the store's timeouts.
 */
export interface RoomStore {
  list(): Promise<RoomRecord[]>;
  /** One room's record as stored now (a cluster node checks a join against it). */
  get(id: string): Promise<RoomRecord | undefined>;
  /** Throws NameTakenError if nameKey is already used. */
  insert(room: RoomRecord): Promise<void>;
  /** Throws NameTakenError if the new nameKey is already used by another room. */
  update(room: RoomRecord): Promise<void>;
  setEmptySince(id: string, emptySince: number | null): Promise<void>;
  /** Moderation settings only (update() leaves them alone, so the two never undo each other). */
  setSettings(id: string, settings: StoredRoomSettings): Promise<void>;
  delete(id: string): Promise<void>;
  close(): Promise<void>;
}

export class NameTakenError extends Error {
  constructor() {
    super('room name taken');
    this.name = 'NameTakenError';
  }
}

export interface RoomRow {
  id: string;
  name: string;
  name_key: string;
  password_hash: string | null;
  capacity: number | null;
  owner_secret_hash: string;
  created_at: number;
  empty_since: number | null;
  owner_account_id: string | null;
  /** 0/1 in SQLite, boolean in PostgreSQL. */
  waiting_room: number | boolean;
  moderators_unmute: number | boolean;
  signed_in_only: number | boolean;
  e2ee: number | boolean;
}

/** A rooms row (the same columns in SQLite and PostgreSQL). */
export const roomFromRow = (r: RoomRow): RoomRecord => ({
  id: r.id,
  name: r.name,
  nameKey: r.name_key,
  passwordHash: r.password_hash,
  capacity: r.capacity,
  ownerSecretHash: r.owner_secret_hash,
  createdAt: r.created_at,
  emptySince: r.empty_since,
  ownerAccountId: r.owner_account_id,
  settings: {
    waitingRoom: Boolean(r.waiting_room),
    moderatorsUnmute: Boolean(r.moderators_unmute),
    signedInOnly: Boolean(r.signed_in_only),
  },
  e2ee: Boolean(r.e2ee),
});

/** The columns after empty_since, in insert order (SQLite stores the flags as 0/1). */
export const ROOM_EXTRA_COLUMNS =
  'owner_account_id, waiting_room, moderators_unmute, signed_in_only, e2ee';

/** A room's values in the column order of `INSERT INTO rooms (id, name, … empty_since)`. */
export const roomInsertValues = (r: RoomRecord) =>
  [
    r.id,
    r.name,
    r.nameKey,
    r.passwordHash,
    r.capacity,
    r.ownerSecretHash,
    r.createdAt,
    r.emptySince,
    r.ownerAccountId,
  ] as const;

/** The settings columns' values in ROOM_EXTRA_COLUMNS order (after owner_account_id). */
export const roomSettingValues = (s: StoredRoomSettings) =>
  [s.waitingRoom, s.moderatorsUnmute, s.signedInOnly] as const;

const SQLITE_EXTRA_COLUMNS: readonly [name: string, type: string][] = [
  ['owner_account_id', 'TEXT'],
  ['waiting_room', 'INTEGER NOT NULL DEFAULT 0'],
  ['moderators_unmute', 'INTEGER NOT NULL DEFAULT 0'],
  ['signed_in_only', 'INTEGER NOT NULL DEFAULT 0'],
  ['e2ee', 'INTEGER NOT NULL DEFAULT 0'],
];

/** RoomStore on Node's built-in node:sqlite. Shares the DatabaseSync with other stores. */
export class SqliteRoomStore implements RoomStore {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(`CREATE TABLE IF NOT EXISTS rooms (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      name_key TEXT NOT NULL UNIQUE,
      password_hash TEXT,
      capacity INTEGER,
      owner_secret_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      empty_since INTEGER
    )`);
    // Databases from before room ownership, moderation settings or E2EE get the columns added.
    const have = new Set(
      (db.prepare('PRAGMA table_info(rooms)').all() as { name: string }[]).map((c) => c.name),
    );
    for (const [name, type] of SQLITE_EXTRA_COLUMNS) {
      if (!have.has(name)) db.exec(`ALTER TABLE rooms ADD COLUMN ${name} ${type}`);
    }
  }

  async list(): Promise<RoomRecord[]> {
    const rows = this.#db
      .prepare('SELECT * FROM rooms ORDER BY created_at, id')
      .all() as unknown as RoomRow[];
    return rows.map(roomFromRow);
  }

  async get(id: string): Promise<RoomRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM rooms WHERE id = ?').get(id) as unknown as
      RoomRow | undefined;
    return row && roomFromRow(row);
  }

  async insert(r: RoomRecord): Promise<void> {
    this.#uniqueGuard(() =>
      this.#db
        .prepare(
          `INSERT INTO rooms (id, name, name_key, password_hash, capacity, owner_secret_hash, created_at, empty_since, ${ROOM_EXTRA_COLUMNS})
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(...roomInsertValues(r), ...roomSettingValues(r.settings).map(Number), r.e2ee ? 1 : 0),
    );
  }

  async update(r: RoomRecord): Promise<void> {
    this.#uniqueGuard(() =>
      this.#db
        .prepare(
          `UPDATE rooms SET name = ?, name_key = ?, password_hash = ?, capacity = ?, empty_since = ? WHERE id = ?`,
        )
        .run(r.name, r.nameKey, r.passwordHash, r.capacity, r.emptySince, r.id),
    );
  }

  async setEmptySince(id: string, emptySince: number | null): Promise<void> {
    this.#db.prepare('UPDATE rooms SET empty_since = ? WHERE id = ?').run(emptySince, id);
  }

  async setSettings(id: string, settings: StoredRoomSettings): Promise<void> {
    this.#db
      .prepare(
        'UPDATE rooms SET waiting_room = ?, moderators_unmute = ?, signed_in_only = ? WHERE id = ?',
      )
      .run(...roomSettingValues(settings).map(Number), id);
  }

  async delete(id: string): Promise<void> {
    this.#db.prepare('DELETE FROM rooms WHERE id = ?').run(id);
  }

  async close(): Promise<void> {
    // The database is shared; its owner (the app) closes it.
  }

  #uniqueGuard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (isUniqueViolation(err, 'rooms.name_key')) {
        throw new NameTakenError();
      }
      throw err;
    }
  }
}
