import type { DatabaseSync } from 'node:sqlite';
import type { AuthStore } from './authStore.ts';
import { PgAuthStore } from './authStorePg.ts';
import { SqliteAuthStore } from './authStoreSqlite.ts';
import type { ChatStore } from './chatStore.ts';
import { PgChatStore } from './chatStorePg.ts';
import { SqliteChatStore } from './chatStoreSqlite.ts';
import { Postgres, type PostgresOptions } from './postgres.ts';
import { SqliteRoomStore, type RoomStore } from './RoomStore.ts';
import { PgRoomStore } from './roomStorePg.ts';
import { openDatabase } from './sqlite.ts';

/** Everything the server keeps: rooms, chat history (file records are its file messages), accounts. */
export interface Stores {
  readonly kind: 'sqlite' | 'postgres';
  readonly rooms: RoomStore;
  readonly chat: ChatStore;
  readonly auth: AuthStore;
  /** The embedded database, when it is SQLite (tests look inside it). */
  readonly sqlite?: DatabaseSync;
  /** Closes the database (after every user of the stores is done). */
  close(): Promise<void>;
}

export interface StoreOptions {
  /** A postgres:// URL: PostgreSQL, shared by a cluster's nodes. Unset: SQLite under dataDir. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** PostgreSQL only: pool and timeout settings, a schema of its own (tests). */
  postgres?: Omit<PostgresOptions, 'url'>;
}

/**
 * The one place that picks where things are kept (LiveKit's createStore): PostgreSQL when a
 * database URL is set, else the embedded SQLite file `<dataDir>/tutti.db`. PostgreSQL tables
 * are created or migrated here, at start-up, idempotently.
 */
export async function createStore(opts: StoreOptions): Promise<Stores> {
  if (opts.databaseUrl) return openPostgresStores({ ...opts.postgres, url: opts.databaseUrl });
  const db = openDatabase(opts.dataDir);
  return {
    kind: 'sqlite',
    rooms: new SqliteRoomStore(db),
    chat: new SqliteChatStore(db),
    auth: new SqliteAuthStore(db),
    sqlite: db,
    async close() {
      if (db.isOpen) db.close();
    },
  };
}

async function openPostgresStores(opts: PostgresOptions): Promise<Stores> {
  const pg = new Postgres(opts);
  try {
    const [rooms, chat, auth] = [
      await PgRoomStore.open(pg),
      await PgChatStore.open(pg),
      await PgAuthStore.open(pg),
    ];
    return { kind: 'postgres', rooms, chat, auth, close: () => pg.close() };
  } catch (err) {
    await pg.close().catch(() => {});
    throw err;
  }
}
