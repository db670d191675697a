import type { DatabaseSync } from 'node:sqlite';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Room as ProtooRoom } from 'protoo-server';
import type { Config } from '@tutti/config';
import { WorkerPool } from '@tutti/media-workers';
import { TuttiError } from '@tutti/protocol';
import { registerAuth } from './auth/index.ts';
import { setupSharing } from './chat/setupSharing.ts';
import { healthPlugin } from './http/health.ts';
import { metricsPlugin } from './http/metrics.ts';
import { roomsHttpPlugin } from './http/rooms.ts';
import { staticPlugin } from './http/static.ts';
import { withLogRedaction } from './ops/logRedaction.ts';
import { registerSecurityHeaders } from './ops/securityHeaders.ts';
import { roomHandlers } from './rooms/handlers.ts';
import type { HandlerTable } from './rooms/ports.ts';
import { RoomRegistry } from './rooms/RoomRegistry.ts';
import { signalingPlugin } from './signaling/plugin.ts';
import { openDatabase, SqliteRoomStore, type RoomStore } from './store/RoomStore.ts';

/**
 * The services every plugin and handler table shares, reachable as `app.tutti`.
 * Other concerns (chat, files) contribute to rooms with `rooms.use(ext)` at start-up.
 */
export interface TuttiServices {
  config: Config;
  /** The one SQLite database under config.data.dir; other stores may add their own tables. */
  db: DatabaseSync;
  roomStore: RoomStore;
  workers: WorkerPool;
  rooms: RoomRegistry;
  /** Every signaling connection (protoo Room used as registry). Set by the signaling plugin. */
  connections: ProtooRoom | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    tutti: TuttiServices;
  }
}

export interface BuildAppOptions {
  /** Fastify logger option; defaults to pino at config.server.logLevel. */
  logger?: boolean | { level: string };
  /** Use an existing pool instead of spawning one (shared across app instances in tests). */
  workerPool?: WorkerPool;
}

/**
 * Builds the Fastify app: services first, then one plugin per concern. Call `listen()`
 * yourself; `close()` tells room members, then closes sockets, workers and the database.
 */
export async function buildApp(
  config: Config,
  opts: BuildAppOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: withLogRedaction(opts.logger ?? { level: config.server.logLevel }),
    trustProxy: config.server.trustProxy,
    bodyLimit: 1024 * 1024,
    // close() must not wait for sockets browsers leave open: pre-connected ones that never
    // send a request (Node drops them only at headersTimeout, ~60 s) and idle keep-alives.
    // Members were told room.closed in preClose; WebSockets are handled by the signaling plugin.
    forceCloseConnections: true,
  });

  const ownsPool = !opts.workerPool;
  const workers =
    opts.workerPool ??
    (await WorkerPool.create({
      numWorkers: config.media.numWorkers,
      workerBin: config.media.workerBin,
      logLevel: config.media.logLevel,
      loadSampleMs: config.media.loadSampleMs,
      log: app.log,
    }));

  let db: DatabaseSync;
  try {
    db = openDatabase(config.data.dir);
  } catch (err) {
    if (ownsPool) workers.close();
    throw err;
  }
  const roomStore = new SqliteRoomStore(db);
  const rooms = new RoomRegistry({ config, store: roomStore, pool: workers, log: app.log });

  const services: TuttiServices = {
    config,
    db,
    roomStore,
    workers,
    rooms,
    connections: undefined,
  };
  app.decorate('tutti', services);
  app.setErrorHandler(httpErrorHandler);

  // ── Concerns register here ────────────────────────────────────────────────────────
  // Signaling: one HandlerTable per concern, merged by the signaling plugin (a method may
  // appear in one table only). Chat/files add e.g. `chatHandlers(services)`,
  // `fileHandlers(services)` to this array.
  const sharing = await setupSharing(services); // chat + files (issue #4)
  const handlerTables: HandlerTable[] = [roomHandlers(rooms), ...sharing.handlerTables];
  // HTTP: one Fastify plugin per concern (they reach services through `app.tutti`).
  // Chat/files add e.g. `filesHttpPlugin` here.
  const httpPlugins: FastifyPluginAsync[] = [
    roomsHttpPlugin,
    healthPlugin,
    metricsPlugin,
    sharing.httpPlugin,
  ];
  // ──────────────────────────────────────────────────────────────────────────────────

  await registerSecurityHeaders(app); // First: its headers cover every route.
  await registerAuth(app, { config, db }); // accounts + social login (issue #11)
  await app.register(signalingPlugin, { handlerTables, rateLimit: config.signaling });
  for (const plugin of httpPlugins) await app.register(plugin);
  await app.register(staticPlugin); // Last: owns the SPA fallback (not-found handler).

  // preClose runs before the websocket plugin drops sockets: tell members first.
  app.addHook('preClose', async () => {
    await rooms.close();
  });
  app.addHook('onClose', async () => {
    if (ownsPool) workers.close();
    await sharing.close();
    db.close();
  });

  rooms.startCleanup();
  return app;
}

/** HTTP error body: `{ error: <stable code>, message }`. */
export interface HttpErrorBody {
  error: string;
  message: string;
}

/** Root error handler: TuttiError → its status + `{ error: code, message }`. */
export function httpErrorHandler(
  err: FastifyError | Error,
  req: FastifyRequest,
  reply: FastifyReply,
): void {
  if (err instanceof TuttiError) {
    void reply
      .status(err.status)
      .send({ error: err.code, message: err.message } satisfies HttpErrorBody);
    return;
  }
  const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 500) req.log.error({ err }, 'request failed');
  const code =
    status === 413
      ? 'PAYLOAD_TOO_LARGE'
      : status === 415
        ? 'UNSUPPORTED_TYPE'
        : status < 500
          ? 'INVALID_REQUEST'
          : 'INTERNAL';
  void reply.status(status).send({
    error: code,
    message: status < 500 ? err.message : 'internal error',
  } satisfies HttpErrorBody);
}
