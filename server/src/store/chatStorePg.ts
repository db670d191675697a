import { randomUUID } from 'node:crypto';
import { TuttiError, type ChatMessage } from '@tutti/protocol';
import {
  MAX_APPEND_BATCH,
  type AppendRequest,
  type AppendResult,
  type ChatStore,
  type HistoryPage,
  type NewChatMessage,
} from './chatStore.ts';
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

/**
 * Group commit: the batch as parallel arrays, inserted in order by one statement (one round
 * trip, one commit), answering per input row (`ord`, 1-based): its new seq (body NULL), or
 * for a key stored before the statement, the earlier message. A row written in the same
 * statement is invisible to its reads, so the second branch sees only earlier messages.
 */
const APPEND_BATCH = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
    WITH ORDINALITY AS t(id, room_id, from_peer, to_peer, file_id, body, client_key, ord)
), inserted AS (
  INSERT INTO chat_messages (id, room_id, from_peer, to_peer, file_id, body, client_key)
  SELECT id, room_id, from_peer, to_peer, file_id, body, client_key FROM input ORDER BY ord
  ON CONFLICT (room_id, from_peer, client_key) WHERE client_key IS NOT NULL DO NOTHING
  RETURNING id, seq
)
SELECT i.ord, n.id, n.seq, NULL AS body FROM input i JOIN inserted n ON n.id = i.id
UNION ALL
SELECT i.ord, c.id, c.seq, c.body FROM input i
  JOIN chat_messages c
    ON c.room_id = i.room_id AND c.from_peer = i.from_peer AND c.client_key = i.client_key
  WHERE i.client_key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM inserted n WHERE n.id = i.id)`;

/** BIGINTs arrive as strings. */
interface BatchRow {
  ord: string;
  id: string;
  seq: string;
  body: string | null;
  [column: string]: unknown;
}

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
    return (await this.#one({ message })).message;
  }

  appendOnce(message: NewChatMessage, key: string): Promise<AppendResult> {
    return this.#one({ message, key });
  }

  async #one(request: AppendRequest): Promise<AppendResult> {
    const [result] = await this.appendBatch([request]);
    if (result!.status === 'rejected') throw result!.reason;
    return result!.value;
  }

  async appendBatch(
    requests: readonly AppendRequest[],
  ): Promise<PromiseSettledResult<AppendResult>[]> {
    if (requests.length > MAX_APPEND_BATCH) throw new Error('chat append batch too large');
    // A key repeated within the batch is written once, by its first request.
    const firstOf = new Map<string, number>();
    const sameAs = requests.map((r, i) => {
      if (r.key === undefined) return i;
      const k = JSON.stringify([r.message.roomId, r.message.from.peerId, r.key]);
      const first = firstOf.get(k) ?? i;
      firstOf.set(k, first);
      return first;
    });
    const written = requests.flatMap((r, i) =>
      sameAs[i] === i ? [{ ...r, i, id: randomUUID() }] : [],
    );
    const column = <T>(f: (w: (typeof written)[number]) => T) => written.map(f);
    const rows = await this.#pg.query<BatchRow>(APPEND_BATCH, [
      column((w) => w.id),
      column((w) => w.message.roomId),
      column((w) => w.message.from.peerId),
      column((w) => w.message.to?.peerId ?? null),
      column((w) => w.message.file?.id ?? null),
      column((w) => JSON.stringify(w.message)),
      column((w) => w.key ?? null),
    ]);
    const byOrd = new Map(rows.map((row) => [Number(row.ord), row]));
    const results: PromiseSettledResult<AppendResult>[] = [];
    for (const [n, w] of written.entries()) {
      const row = byOrd.get(n + 1);
      results[w.i] = row
        ? {
            status: 'fulfilled',
            value:
              row.body === null
                ? { message: { ...w.message, id: w.id, seq: Number(row.seq) }, created: true }
                : { message: toMessage(row as Row), created: false },
          }
        : // Another node stored this key while the statement ran (not in its snapshot).
          await this.#earlier(w.message, w.key!).then(
            (message) => ({ status: 'fulfilled', value: { message, created: false } }) as const,
            (reason: unknown) => ({ status: 'rejected', reason }) as const,
          );
    }
    return requests.map((_, i) => {
      const first = results[sameAs[i]!]!;
      if (sameAs[i] === i || first.status === 'rejected') return first;
      return { status: 'fulfilled', value: { message: first.value.message, created: false } };
    });
  }

  async #earlier(message: NewChatMessage, key: string): Promise<ChatMessage> {
    const earlier = await this.findByKey(message.roomId, message.from.peerId, key);
    if (!earlier) throw new Error('idempotency key conflict without a stored message');
    return earlier;
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
