import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '@tutti/config';
import { buildApp } from '@tutti/server';

export interface TestServer {
  /** http://<server.host>:<port> (127.0.0.1 unless overridden) */
  url: string;
  /** ws://<server.host>:<port>/ws */
  wsUrl: string;
  app: FastifyInstance;
  config: Config;
  dataDir: string;
  /** Closes the server (and removes the temp data dir if we made it). */
  stop(): Promise<void>;
  /** Stops, then starts a new server on the same data dir (and the same port if free). */
  restart(): Promise<void>;
}

export interface StartOptions {
  /** Keep this data dir (default: a fresh mkdtemp dir, removed on stop()). */
  dataDir?: string;
  /** Environment used by loadConfig (default: none of the TUTTI_* of the caller). */
  env?: NodeJS.ProcessEnv;
  /** Log to stdout (default: TUTTI_TEST_LOG or silent). */
  logLevel?: string;
}

function deepMerge(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    const both = [prev, v].every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));
    out[k] = both ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/**
 * Starts a full Tutti server on 127.0.0.1, port 0, with a temp data dir and one media
 * worker unless overridden. `overrides` are Config input (e.g. { rooms: { idleTtlSeconds: 1 } }).
 */
export async function startTestServer(
  overrides: Record<string, unknown> = {},
  opts: StartOptions = {},
): Promise<TestServer> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'tutti-test-'));
  const logLevel = opts.logLevel ?? process.env.TUTTI_TEST_LOG ?? 'silent';
  // No TUTTI_* from the caller's environment and no config/local.json: an empty config file.
  const emptyConfig = path.join(dataDir, 'test-config.json');
  if (!existsSync(emptyConfig)) writeFileSync(emptyConfig, '{}');
  const env: NodeJS.ProcessEnv = opts.env ?? { TUTTI_CONFIG: emptyConfig };
  const base = {
    server: { host: '127.0.0.1', port: 0, logLevel },
    media: { numWorkers: 1, listenIp: '127.0.0.1' },
    data: { dir: dataDir },
  };
  const input = deepMerge(base, overrides);
  const config = loadConfig(input, env);

  let app = await buildApp(config, { logger: logLevel === 'silent' ? false : { level: logLevel } });
  // server.host is 127.0.0.1 unless a test overrides it (netfault listens on a veth address).
  const host = config.server.host;
  await app.listen({ host, port: 0 });
  let port = addressPort(app);

  const server: TestServer = {
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}/ws`,
    app,
    config,
    dataDir,
    async stop() {
      await server.app.close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await server.app.close();
      app = await buildApp(config, { logger: logLevel === 'silent' ? false : { level: logLevel } });
      try {
        await app.listen({ host, port });
      } catch {
        await app.listen({ host, port: 0 });
        port = addressPort(app);
      }
      server.app = app;
      server.url = `http://${host}:${port}`;
      server.wsUrl = `ws://${host}:${port}/ws`;
    },
  };
  return server;
}

function addressPort(app: FastifyInstance): number {
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('server has no TCP address');
  return addr.port;
}
