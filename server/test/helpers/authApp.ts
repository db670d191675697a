/** A bare Fastify with only the auth routes (no media workers): what the auth tests drive. */
import { DatabaseSync } from 'node:sqlite';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
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

export const ORIGIN = 'http://localhost:80'; // app.inject's host
let n = 0;
/** An email address no test used before. */
export const uniqueEmail = () => `user${++n}-${Date.now()}@example.test`;

/** One request through app.inject, from ORIGIN; the session cookie it set, if any. */
export async function call(
  app: FastifyInstance,
  method: InjectOptions['method'],
  url: string,
  opts: { body?: unknown; cookie?: string; ip?: string; headers?: Record<string, string> } = {},
) {
  const res = await app.inject({
    method,
    url,
    payload: opts.body as InjectOptions['payload'],
    remoteAddress: opts.ip ?? '10.0.0.1',
    headers: {
      origin: ORIGIN,
      ...(opts.cookie ? { cookie: opts.cookie } : {}),
      ...opts.headers,
    },
  });
  const setCookie = res.headers['set-cookie'];
  const lines = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const session = lines.find((l) => l.startsWith('tutti_session='));
  const cookie = session ? session.split(';')[0] : undefined;
  return { res, status: res.statusCode, json: res.body ? res.json() : undefined, session, cookie };
}
