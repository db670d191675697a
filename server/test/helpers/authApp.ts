/** A bare Fastify with only the auth routes (no media workers): what the auth tests drive. */
import { DatabaseSync } from 'node:sqlite';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '@tutti/config';
import { registerAuth, type Auth } from '../../src/auth/index.ts';

export interface AuthApp {
  app: FastifyInstance;
  auth: Auth;
  config: Config;
  /** Set after listen(). */
  url: string;
  close(): Promise<void>;
}

/** Cheap argon2 cost in tests (the cost itself is not what they check). */
export const TEST_AUTH = { argon2MemoryKiB: 1024, argon2Passes: 1 };

export async function startAuthApp(
  overrides: Record<string, unknown> = {},
  listen = false,
): Promise<AuthApp> {
  const config = loadConfig(
    { ...overrides, auth: { ...TEST_AUTH, ...(overrides.auth as object) } },
    {},
  );
  const db = new DatabaseSync(':memory:');
  const app = Fastify({ logger: false, trustProxy: config.server.trustProxy });
  const auth = await registerAuth(app, { config, db });
  app.addHook('onClose', async () => db.close());
  let url = '';
  if (listen) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    url = `http://127.0.0.1:${addr.port}`;
  } else await app.ready();
  return { app, auth, config, url, close: () => app.close() };
}
