import { loadConfig } from '@tutti/config';
import { buildApp } from './app.ts';

/** `npm start`: config from file/env, serve client/dist and the API on config.server.port. */
async function main(): Promise<void> {
  const config = loadConfig();
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    app = await buildApp(config);
  } catch (err) {
    console.error(`Tutti failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  await app.listen({ host: config.server.host, port: config.server.port });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // Last-resort net: a stray rejection in a media callback must not take every room down.
  process.on('unhandledRejection', (err) => app.log.error({ err }, 'unhandled rejection'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
