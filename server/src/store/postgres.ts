import pg from 'pg';
import { TuttiError } from '@tutti/protocol';

export interface PostgresOptions {
  /** A postgres:// URL. */
  url: string;
  /** Tables go into this schema (search_path); default: the role's default (public). */
  schema?: string | undefined;
  /** Connecting may take this long before the request fails (default 3 s). */
  connectTimeoutMs?: number;
  /** One statement may take this long, server side and client side (default 5 s). */
  statementTimeoutMs?: number;
  /** Connections in the pool (default 10). */
  maxConnections?: number;
  /** Where an idle connection that broke is reported (default: ignored; the pool replaces it). */
  onError?: (err: Error) => void;
}

export type Row = Record<string, unknown>;

/** What stores run statements on: the pool, or one transaction's connection. */
export interface Queryable {
  query<R extends Row = Row>(text: string, params?: unknown[]): Promise<R[]>;
}

/** A schema change, applied once, in order, by `Postgres.migrate`. */
export interface Migration {
  version: number;
  sql: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The PostgreSQL connection pool the stores share. Every call is bounded: connecting by
 * `connectTimeoutMs`, every statement by `statementTimeoutMs` (PostgreSQL cancels it, and the
 * client gives up a little later if the server is frozen). A database that is down or frozen
 * turns into STORE_UNAVAILABLE (503) within those bounds; the pool reconnects by itself.
 */
export class Postgres implements Queryable {
  readonly #pool: pg.Pool;
  #closing: Promise<void> | undefined;

  constructor(opts: PostgresOptions) {
    if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) {
      throw new Error(`invalid schema name ${JSON.stringify(opts.schema)}`);
    }
    const statementMs = opts.statementTimeoutMs ?? 5000;
    this.#pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.maxConnections ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 3000,
      statement_timeout: statementMs,
      query_timeout: statementMs + 1000,
      idle_in_transaction_session_timeout: statementMs * 2,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      ...(opts.schema !== undefined && { options: `-c search_path=${opts.schema}` }),
    });
    // A connection that breaks while idle (server restart) must not crash the process.
    this.#pool.on('error', (err) => opts.onError?.(err));
  }

  async query<R extends Row = Row>(text: string, params: unknown[] = []): Promise<R[]> {
    try {
      const result = await this.#pool.query<R>(text, params);
      return result.rows;
    } catch (err) {
      throw storeError(err);
    }
  }

  /** Runs `work` in one transaction (BEGIN … COMMIT; a throw aborts it). */
  async transaction<T>(work: (q: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw storeError(err);
    }
    const q: Queryable = {
      query: async <R extends Row>(text: string, params: unknown[] = []) => {
        try {
          return (await client.query<R>(text, params)).rows;
        } catch (err) {
          throw storeError(err);
        }
      },
    };
    let failed = false;
    // A connection that breaks while checked out emits 'error': without a listener it would
    // crash the process. The statement in flight fails on its own.
    const broke = () => (failed = true);
    client.on('error', broke);
    try {
      await q.query('BEGIN');
      const value = await work(q);
      await q.query('COMMIT');
      return value;
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      // After a failure the connection is dropped, not reused: PostgreSQL rolls back, and a
      // connection stuck on a timed-out statement never serves another query.
      client.off('error', broke);
      client.release(failed);
    }
  }

  /**
   * Brings `component`'s tables to its latest version: each migration newer than the one
   * recorded in schema_version runs once, in a transaction, under an advisory lock so nodes
   * starting together don't race. Idempotent.
   */
  async migrate(component: string, migrations: readonly Migration[]): Promise<void> {
    await this.transaction(async (q) => {
      await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['tutti-schema']);
      await q.query(`CREATE TABLE IF NOT EXISTS schema_version (
        component TEXT PRIMARY KEY,
        version INTEGER NOT NULL
      )`);
      const [row] = await q.query<{ version: number }>(
        'SELECT version FROM schema_version WHERE component = $1',
        [component],
      );
      let current = row?.version ?? 0;
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (m.version <= current) continue;
        await q.query(m.sql);
        current = m.version;
      }
      await q.query(
        `INSERT INTO schema_version (component, version) VALUES ($1, $2)
         ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version`,
        [component, current],
      );
    });
  }

  /** Ends the pool (once; later calls wait for the same end). */
  close(): Promise<void> {
    this.#closing ??= this.#pool.end();
    return this.#closing;
  }
}

/** A PostgreSQL error's SQLSTATE (e.g. 23505, unique violation), if it has one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The constraint a PostgreSQL error names (unique violations). */
export function constraintOf(err: unknown): string | undefined {
  const name = (err as { constraint?: unknown } | null)?.constraint;
  return typeof name === 'string' ? name : undefined;
}

/** Whether `err` is PostgreSQL refusing a write for breaking the unique `constraint`. */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  return sqlState(err) === '23505' && constraintOf(err) === constraint;
}

/**
 * Outages (no connection, timeouts, the server shutting down, out of resources) become
 * STORE_UNAVAILABLE; errors about the data itself (constraints…) stay as they are for the
 * store to interpret.
 */
function storeError(err: unknown): unknown {
  const state = sqlState(err);
  const outage =
    state === undefined ||
    state.startsWith('08') || // connection exception
    state.startsWith('53') || // insufficient resources
    state.startsWith('57'); // operator intervention: canceled (statement_timeout), shutdown
  if (!outage || err instanceof TuttiError) return err;
  return new TuttiError('STORE_UNAVAILABLE', 'the database is unavailable; try again shortly');
}
