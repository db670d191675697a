import { randomUUID } from 'node:crypto';
import { TuttiError, type ChatMessage } from '@tutti/protocol';
import type { ChatStore, HistoryPage, NewChatMessage } from './chatStore.ts';
import type { Migration, Postgres } from './postgres.ts';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `CREATE TABLE IF NOT EXISTS chat_messages (
      seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id        TEXT NOT NULL UNIQUE,
      room_id   TEXT NOT NULL,
      from_peer TEXT NOT NULL,
      to_peer   TEXT,
      file_id   TEXT,
      body      TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS chat_messages_room_seq ON chat_messages (room_id, seq);
    CREATE INDEX IF NOT EXISTS chat_messages_room_file ON chat_messages (room_id, file_id)
      WHERE file_id IS NOT NULL;`,
  },
  {
    // Idempotency keys (chat outbox resends): one message per (room, sender, key).
    version: 2,
    sql: `ALTER TABLE chat_messages ADD COLUMN IF NOT EXISTS client_key TEXT;
    CREATE UNIQUE INDEX IF NOT EXISTS chat_messages_sender_key
      ON chat_messages (room_id, from_peer, client_key) WHERE client_key IS NOT NULL;`,
  },
];

interface Row {
  /** BIGINT arrives as a string. */
  seq: string;
  id: string;
  body: string;
  [column: string]: unknown;
}

/**
 * ChatStore on PostgreSQL, the same rules as SqliteChatStore: seq from an identity column
 * (never reused), private messages visible to their sender and recipient only, the id cursor
 * pages back from a message of the same room. The body is the message as JSON (text, so it
 * comes back exactly as stored). Build it with `open()`.
 */
export class PgChatStore implements ChatStore {
  readonly #pg: Postgres;

  private constructor(pg: Postgres) {
    this.#pg = pg;
  }

  static async open(pg: Postgres): Promise<PgChatStore> {
    await pg.migrate('chat', MIGRATIONS);
    return new PgChatStore(pg);
  }

  async append(message: NewChatMessage): Promise<ChatMessage> {
    const id = randomUUID();
    const [row] = await this.#pg.query<{ seq: string }>(
      `INSERT INTO chat_messages (id, room_id, from_peer, to_peer, file_id, body)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq`,
      [
        id,
        message.roomId,
        message.from.peerId,
        message.to?.peerId ?? null,
        message.file?.id ?? null,
        JSON.stringify(message),
      ],
    );
    return { ...message, id, seq: Number(row!.seq) };
  }

  async appendOnce(
    message: NewChatMessage,
    key: string,
  ): Promise<{ message: ChatMessage; created: boolean }> {
    const id = randomUUID();
    const [row] = await this.#pg.query<{ seq: string }>(
      `INSERT INTO chat_messages (id, room_id, from_peer, to_peer, file_id, body, client_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (room_id, from_peer, client_key) WHERE client_key IS NOT NULL DO NOTHING
       RETURNING seq`,
      [
        id,
        message.roomId,
        message.from.peerId,
        message.to?.peerId ?? null,
        message.file?.id ?? null,
        JSON.stringify(message),
        key,
      ],
    );
    if (row) return { message: { ...message, id, seq: Number(row.seq) }, created: true };
    const earlier = await this.findByKey(message.roomId, message.from.peerId, key);
    if (!earlier) throw new Error('idempotency key conflict without a stored message');
    return { message: earlier, created: false };
  }

  async findByKey(
    roomId: string,
    fromPeerId: string,
    key: string,
  ): Promise<ChatMessage | undefined> {
    const [row] = await this.#pg.query<Row>(
      'SELECT seq, id, body FROM chat_messages WHERE room_id = $1 AND from_peer = $2 AND client_key = $3',
      [roomId, fromPeerId, key],
    );
    return row && toMessage(row);
  }

  async page(
    roomId: string,
    viewerPeerId: string,
    opts: { before?: string; limit: number },
  ): Promise<HistoryPage> {
    let before: string | number = Number.MAX_SAFE_INTEGER;
    if (opts.before !== undefined) {
      const [cursor] = await this.#pg.query<{ seq: string }>(
        'SELECT seq FROM chat_messages WHERE room_id = $1 AND id = $2',
        [roomId, opts.before],
      );
      if (!cursor) throw new TuttiError('NOT_FOUND', 'unknown message id for the history cursor');
      before = cursor.seq;
    }
    // One extra row tells whether an older page exists.
    const rows = await this.#pg.query<Row>(
      `SELECT seq, id, body FROM chat_messages
       WHERE room_id = $1 AND seq < $2 AND (to_peer IS NULL OR from_peer = $3 OR to_peer = $3)
       ORDER BY seq DESC LIMIT $4`,
      [roomId, before, viewerPeerId, opts.limit + 1],
    );
    const hasMore = rows.length > opts.limit;
    return { messages: rows.slice(0, opts.limit).reverse().map(toMessage), hasMore };
  }

  async findFile(roomId: string, fileId: string): Promise<ChatMessage | undefined> {
    const [row] = await this.#pg.query<Row>(
      'SELECT seq, id, body FROM chat_messages WHERE room_id = $1 AND file_id = $2 LIMIT 1',
      [roomId, fileId],
    );
    return row && toMessage(row);
  }

  async delete(roomId: string, id: string): Promise<void> {
    await this.#pg.query('DELETE FROM chat_messages WHERE room_id = $1 AND id = $2', [roomId, id]);
  }

  async deleteRoom(roomId: string): Promise<void> {
    await this.#pg.query('DELETE FROM chat_messages WHERE room_id = $1', [roomId]);
  }

  async close(): Promise<void> {
    // The pool is shared; its owner (createStore) closes it.
  }
}

function toMessage(row: Row): ChatMessage {
  return { ...(JSON.parse(row.body) as NewChatMessage), id: row.id, seq: Number(row.seq) };
}
