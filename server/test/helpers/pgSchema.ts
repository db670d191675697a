import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The CI database (.ci/services.sh creates it). */
export const TEST_DATABASE_URL =
  process.env.TUTTI_TEST_DATABASE_URL ?? 'postgres://tutti_ci:tutti_ci@127.0.0.1:5432/tutti_ci';

export interface TestSchema {
  name: string;
  /** TEST_DATABASE_URL with this schema as search_path (for config's database.url). */
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: TEST_DATABASE_URL,
    connectionTimeoutMillis: 5000,
    query_timeout: 10_000,
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A schema of its own for one test (tutti_test_<random>); drop() removes it with its tables. */
export async function createTestSchema(): Promise<TestSchema> {
  const name = `tutti_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE SCHEMA ${name}`));
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${name}`);
  return {
    name,
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)).then(() => {}),
  };
}
