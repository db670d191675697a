import { randomUUID } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { TuttiError, type ChatMessage } from '@tutti/protocol';
import {
  MAX_APPEND_BATCH,
  type AppendRequest,
  type AppendResult,
  type ChatStore,
  type HistoryPage,
  type NewChatMessage,
} from './chatStore.ts';
import { openSqlite } from './sqlite.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS chat_messages (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  id        TEXT NOT NULL UNIQUE,
  room_id   TEXT NOT NULL,
  from_peer TEXT NOT NULL,
  to_peer   TEXT,
  file_id   TEXT,
  body      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_messages_room_seq ON chat_messages (room_id, seq);
CREATE INDEX IF NOT EXISTS chat_messages_room_file ON chat_messages (room_id, file_id)
  WHERE file_id IS NOT NULL;
`;

/** Idempotency keys (chat outbox resends): added to databases made before them. */
const KEYED = `
CREATE UNIQUE INDEX IF NOT EXISTS chat_messages_sender_key
  ON chat_messages (room_id, from_peer, client_key) WHERE client_key IS NOT NULL;
`;

interface Row {
  seq: number;
  id: string;
  body: string;
}

/**
 * ChatStore on node:sqlite (the statements run synchronously inside the async methods).
 * AUTOINCREMENT keeps seq values from ever being reused after a room is deleted.
 */
export class SqliteChatStore implements ChatStore {
  readonly #db: DatabaseSync;
  readonly #ownsDb: boolean;
  readonly #insert: StatementSync;
  readonly #insertKeyed: StatementSync;
  readonly #byKey: StatementSync;
  readonly #seqOf: StatementSync;
  readonly #page: StatementSync;
  readonly #file: StatementSync;
  readonly #delete: StatementSync;
  readonly #deleteRoom: StatementSync;

  /** Opens (creating when needed) a database file of its own. */
  static open(path: string): SqliteChatStore {
    return new SqliteChatStore(openSqlite(path), true);
  }

  /** Shares an already open database (e.g. the room store's); the caller closes it. */
  constructor(db: DatabaseSync, ownsDb = false) {
    this.#db = db;
    this.#ownsDb = ownsDb;
    db.exec(SCHEMA);
    const columns = db.prepare('PRAGMA table_info(chat_messages)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'client_key')) {
      db.exec('ALTER TABLE chat_messages ADD COLUMN client_key TEXT');
    }
    db.exec(KEYED);
    this.#insertKeyed = db.prepare(
      `INSERT INTO chat_messages (id, room_id, from_peer, to_peer, file_id, body, client_key)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (room_id, from_peer, client_key) WHERE client_key IS NOT NULL DO NOTHING
       RETURNING seq`,
    );
    this.#byKey = db.prepare(
      'SELECT seq, id, body FROM chat_messages WHERE room_id = ? AND from_peer = ? AND client_key = ?',
    );
    this.#insert = db.prepare(
      'INSERT INTO chat_messages (id, room_id, from_peer, to_peer, file_id, body) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq',
    );
    this.#seqOf = db.prepare('SELECT seq FROM chat_messages WHERE room_id = ? AND id = ?');
    this.#page = db.prepare(
      `SELECT seq, id, body FROM chat_messages
       WHERE room_id = ? AND seq < ? AND (to_peer IS NULL OR from_peer = ? OR to_peer = ?)
       ORDER BY seq DESC LIMIT ?`,
    );
    this.#file = db.prepare(
      'SELECT seq, id, body FROM chat_messages WHERE room_id = ? AND file_id = ?',
    );
    this.#delete = db.prepare('DELETE FROM chat_messages WHERE room_id = ? AND id = ?');
    this.#deleteRoom = db.prepare('DELETE FROM chat_messages WHERE room_id = ?');
  }

  async append(message: NewChatMessage): Promise<ChatMessage> {
    return this.#write({ message }).message;
  }

  async appendOnce(message: NewChatMessage, key: string): Promise<AppendResult> {
    return this.#write({ message, key });
  }

  /** One transaction (a savepoint: the database is shared) for the whole batch. */
  async appendBatch(
    requests: readonly AppendRequest[],
  ): Promise<PromiseSettledResult<AppendResult>[]> {
    if (requests.length > MAX_APPEND_BATCH) throw new Error('chat append batch too large');
    this.#db.exec('SAVEPOINT chat_batch');
    try {
      const results = requests.map(
        (r) => ({ status: 'fulfilled', value: this.#write(r) }) as const,
      );
      this.#db.exec('RELEASE chat_batch');
      return results;
    } catch (err) {
      this.#db.exec('ROLLBACK TO chat_batch');
      this.#db.exec('RELEASE chat_batch');
      throw err;
    }
  }

  #write({ message, key }: AppendRequest): AppendResult {
    const id = randomUUID();
    const common = [
      id,
      message.roomId,
      message.from.peerId,
      message.to?.peerId ?? null,
      message.file?.id ?? null,
      JSON.stringify(message),
    ] as const;
    const row = (
      key === undefined ? this.#insert.get(...common) : this.#insertKeyed.get(...common, key)
    ) as { seq: number } | undefined;
    if (row) return { message: { ...message, id, seq: row.seq }, created: true };
    const earlier = this.#byKey.get(message.roomId, message.from.peerId, key!) as Row | undefined;
    if (!earlier) throw new Error('idempotency key conflict without a stored message');
    return { message: toMessage(earlier), created: false };
  }

  async findByKey(
    roomId: string,
    fromPeerId: string,
    key: string,
  ): Promise<ChatMessage | undefined> {
    const row = this.#byKey.get(roomId, fromPeerId, key) as Row | undefined;
    return row && toMessage(row);
  }

  async page(
    roomId: string,
    viewerPeerId: string,
    opts: { before?: string; limit: number },
  ): Promise<HistoryPage> {
    let before = Number.MAX_SAFE_INTEGER;
    if (opts.before !== undefined) {
      const cursor = this.#seqOf.get(roomId, opts.before) as { seq: number } | undefined;
      if (!cursor) throw new TuttiError('NOT_FOUND', 'unknown message id for the history cursor');
      before = cursor.seq;
    }
    // One extra row tells whether an older page exists.
    const rows = this.#page.all(
      roomId,
      before,
      viewerPeerId,
      viewerPeerId,
      opts.limit + 1,
    ) as unknown as Row[];
    const hasMore = rows.length > opts.limit;
    const messages = rows.slice(0, opts.limit).reverse().map(toMessage);
    return { messages, hasMore };
  }

  async findFile(roomId: string, fileId: string): Promise<ChatMessage | undefined> {
    const row = this.#file.get(roomId, fileId) as Row | undefined;
    return row && toMessage(row);
  }

  async delete(roomId: string, id: string): Promise<void> {
    this.#delete.run(roomId, id);
  }

  async deleteRoom(roomId: string): Promise<void> {
    this.#deleteRoom.run(roomId);
  }

  async close(): Promise<void> {
    if (this.#ownsDb && this.#db.isOpen) this.#db.close();
  }
}

function toMessage(row: Row): ChatMessage {
  return { ...(JSON.parse(row.body) as NewChatMessage), id: row.id, seq: row.seq };
}
