import type { Migration, Postgres } from './postgres.ts';
import { isUniqueViolation } from './postgres.ts';
import {
  NameTakenError,
  ROOM_EXTRA_COLUMNS,
  roomFromRow,
  roomInsertValues,
  roomSettingValues,
  type RoomRecord,
  type RoomRow,
  type RoomStore,
  type StoredRoomSettings,
} from './RoomStore.ts';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `CREATE TABLE IF NOT EXISTS rooms (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      name_key TEXT NOT NULL,
      password_hash TEXT,
      capacity INTEGER,
      owner_secret_hash TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      empty_since BIGINT,
      CONSTRAINT rooms_name_key_unique UNIQUE (name_key)
    )`,
  },
  {
    // Rooms owned by accounts, and the moderation settings kept with a room.
    version: 2,
    sql: `ALTER TABLE rooms
      ADD COLUMN IF NOT EXISTS owner_account_id TEXT,
      ADD COLUMN IF NOT EXISTS waiting_room BOOLEAN NOT NULL DEFAULT false,
      ADD COLUMN IF NOT EXISTS moderators_unmute BOOLEAN NOT NULL DEFAULT false,
      ADD COLUMN IF NOT EXISTS signed_in_only BOOLEAN NOT NULL DEFAULT false`,
  },
  {
    // End-to-end encrypted rooms (docs/e2ee.md).
    version: 3,
    sql: 'ALTER TABLE rooms ADD COLUMN IF NOT EXISTS e2ee BOOLEAN NOT NULL DEFAULT false',
  },
];

/** A rooms row as pg returns it: BIGINT arrives as a string. */
type PgRoomRow = Omit<RoomRow, 'created_at' | 'empty_since'> & {
  created_at: string;
  empty_since: string | null;
  [column: string]: unknown;
};

const fromRow = (r: PgRoomRow): RoomRecord =>
  roomFromRow({
    ...r,
    created_at: Number(r.created_at),
    empty_since: r.empty_since === null ? null : Number(r.empty_since),
  });

/** RoomStore on PostgreSQL (a cluster's nodes share it). Build it with `open()`. */
export class PgRoomStore implements RoomStore {
  readonly #pg: Postgres;

  private constructor(pg: Postgres) {
    this.#pg = pg;
  }

  /** Creates or migrates its table, then returns the store. */
  static async open(pg: Postgres): Promise<PgRoomStore> {
    await pg.migrate('rooms', MIGRATIONS);
    return new PgRoomStore(pg);
  }

  async list(): Promise<RoomRecord[]> {
    const rows = await this.#pg.query<PgRoomRow>('SELECT * FROM rooms ORDER BY created_at, id');
    return rows.map(fromRow);
  }

  async get(id: string): Promise<RoomRecord | undefined> {
    const rows = await this.#pg.query<PgRoomRow>('SELECT * FROM rooms WHERE id = $1', [id]);
    return rows[0] && fromRow(rows[0]);
  }

  async insert(r: RoomRecord): Promise<void> {
    await this.#uniqueGuard(() =>
      this.#pg.query(
        `INSERT INTO rooms (id, name, name_key, password_hash, capacity, owner_secret_hash, created_at, empty_since, ${ROOM_EXTRA_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [...roomInsertValues(r), ...roomSettingValues(r.settings), r.e2ee],
      ),
    );
  }

  async update(r: RoomRecord): Promise<void> {
    await this.#uniqueGuard(() =>
      this.#pg.query(
        `UPDATE rooms SET name = $1, name_key = $2, password_hash = $3, capacity = $4, empty_since = $5
         WHERE id = $6`,
        [r.name, r.nameKey, r.passwordHash, r.capacity, r.emptySince, r.id],
      ),
    );
  }

  async setEmptySince(id: string, emptySince: number | null): Promise<void> {
    await this.#pg.query('UPDATE rooms SET empty_since = $1 WHERE id = $2', [emptySince, id]);
  }

  async setSettings(id: string, settings: StoredRoomSettings): Promise<void> {
    await this.#pg.query(
      'UPDATE rooms SET waiting_room = $1, moderators_unmute = $2, signed_in_only = $3 WHERE id = $4',
      [...roomSettingValues(settings), id],
    );
  }

  async delete(id: string): Promise<void> {
    await this.#pg.query('DELETE FROM rooms WHERE id = $1', [id]);
  }

  async close(): Promise<void> {
    // The pool is shared; its owner (createStore) closes it.
  }

  async #uniqueGuard(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (isUniqueViolation(err, 'rooms_name_key_unique')) {
        throw new NameTakenError();
      }
      throw err;
    }
  }
}
