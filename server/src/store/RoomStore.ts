import type { DatabaseSync } from 'node:sqlite';

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
}

export interface RoomStore {
  list(): RoomRecord[];
  /** Throws NameTakenError if nameKey is already used. */
  insert(room: RoomRecord): void;
  /** Throws NameTakenError if the new nameKey is already used by another room. */
  update(room: RoomRecord): void;
  setEmptySince(id: string, emptySince: number | null): void;
  delete(id: string): void;
  close(): void;
}

export class NameTakenError extends Error {
  constructor() {
    super('room name taken');
    this.name = 'NameTakenError';
  }
}

interface Row {
  id: string;
  name: string;
  name_key: string;
  password_hash: string | null;
  capacity: number | null;
  owner_secret_hash: string;
  created_at: number;
  empty_since: number | null;
}

const fromRow = (r: Row): RoomRecord => ({
  id: r.id,
  name: r.name,
  nameKey: r.name_key,
  passwordHash: r.password_hash,
  capacity: r.capacity,
  ownerSecretHash: r.owner_secret_hash,
  createdAt: r.created_at,
  emptySince: r.empty_since,
});

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
  }

  list(): RoomRecord[] {
    const rows = this.#db
      .prepare('SELECT * FROM rooms ORDER BY created_at, id')
      .all() as unknown as Row[];
    return rows.map(fromRow);
  }

  insert(r: RoomRecord): void {
    this.#uniqueGuard(() =>
      this.#db
        .prepare(
          `INSERT INTO rooms (id, name, name_key, password_hash, capacity, owner_secret_hash, created_at, empty_since)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          r.id,
          r.name,
          r.nameKey,
          r.passwordHash,
          r.capacity,
          r.ownerSecretHash,
          r.createdAt,
          r.emptySince,
        ),
    );
  }

  update(r: RoomRecord): void {
    this.#uniqueGuard(() =>
      this.#db
        .prepare(
          `UPDATE rooms SET name = ?, name_key = ?, password_hash = ?, capacity = ?, empty_since = ? WHERE id = ?`,
        )
        .run(r.name, r.nameKey, r.passwordHash, r.capacity, r.emptySince, r.id),
    );
  }

  setEmptySince(id: string, emptySince: number | null): void {
    this.#db.prepare('UPDATE rooms SET empty_since = ? WHERE id = ?').run(emptySince, id);
  }

  delete(id: string): void {
    this.#db.prepare('DELETE FROM rooms WHERE id = ?').run(id);
  }

  close(): void {
    // The database is shared; its owner (the app) closes it.
  }

  #uniqueGuard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof Error && /UNIQUE constraint failed: rooms\.name_key/.test(err.message)) {
        throw new NameTakenError();
      }
      throw err;
    }
  }
}
