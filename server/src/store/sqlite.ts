import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** Opens (creating its directory as needed) one SQLite file with the pragmas every store wants. */
export function openSqlite(file: string): DatabaseSync {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
  return db;
}

/** The shared database under the data dir: rooms, chat history (each store adds its tables). */
export function openDatabase(dataDir: string, file = 'tutti.db'): DatabaseSync {
  return openSqlite(path.join(dataDir, file));
}

/** Whether `err` is SQLite refusing a write for a duplicate `table.column` ("rooms.name_key"). */
export function isUniqueViolation(err: unknown, column: string): boolean {
  return err instanceof Error && err.message.includes(`UNIQUE constraint failed: ${column}`);
}
