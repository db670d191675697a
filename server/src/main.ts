import { loadConfig } from '@tutti/config';
import { buildApp } from './app.ts';
import { prepareHttps, type HttpsEndpoint } from './ops/https.ts';
import { handleSignals } from './ops/signals.ts';

/**
 * `npm start`: config from file/env, serve client/dist and the API on config.server.port.
 * SIGTERM drains (ops/signals.ts), then stops as SIGINT does.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  let app: Awaited<ReturnType<typeof buildApp>>;
  let https: HttpsEndpoint | undefined;
  try {
    app = await buildApp(config);
    https = await prepareHttps(app, config);
  } catch (err) {
    console.error(`Tutti failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  await app.listen({ host: config.server.host, port: config.server.port });
  // HTTPS is an extra: a busy port is reported, plain HTTP keeps serving.
  await https?.listen().catch((err: unknown) => app.log.warn({ err }, 'HTTPS not served'));

  let closing = false;
  /** Stops now: the end of a drain, SIGINT, or a second SIGTERM. */
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // Synchronously, before mediasoup's own SIGINT/SIGTERM handlers close the workers (and
    // before a worker that got the signal too — same process group — exits): close the
    // rooms first (each is marked closed now; members get room.closed {reason:'shutdown'}),
    // so none takes its worker's exit for a death and re-creates its router; and the pool
    // stops respawning. app.close() then waits for the same rooms.close().
    void app.tutti.rooms.close().catch(() => {});
    app.tutti.workers.beginClose();
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
  // SIGTERM drains first (server.drainGraceSeconds); SIGINT or a second SIGTERM stop at once.
  handleSignals({ drain: app.tutti.drain, stopNow: shutdown, log: app.log });
}

void main();
