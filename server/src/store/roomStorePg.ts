import type { Migration, Postgres } from './postgres.ts';
import { isUniqueViolation } from './postgres.ts';
import {
  NameTakenError,
  ROOM_COLUMNS,
  roomFromRow,
  roomInsertValues,
  type RoomRecord,
  type RoomRow,
  type RoomStore,
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
    version: 2,
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

  async insert(r: RoomRecord): Promise<void> {
    await this.#uniqueGuard(() =>
      this.#pg.query(
        `INSERT INTO rooms (${ROOM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [...roomInsertValues(r).slice(0, 8), r.e2ee],
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
