import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '@tutti/config';
import { WorkerPool } from '@tutti/media-workers';
import { registerAuth } from './auth/index.ts';
import type { ChatBus } from './chat/ChatBus.ts';
import { createChatModule } from './chat/module.ts';
import type { Concern } from './module/concern.ts';
import { FileLinks } from './files/links.ts';
import { createFilesModule } from './files/module.ts';
import { createGamesModule } from './games/module.ts';
import { httpErrorHandler } from './http/errors.ts';
import { createIngestModule } from './ingest/module.ts';
import { createRecordingModule } from './recording/module.ts';
import { healthPlugin } from './http/health.ts';
import { metricsPlugin } from './http/metrics.ts';
import { opsAccessGuard } from './http/opsAccess.ts';
import { roomsHttpPlugin } from './http/rooms.ts';
import { staticPlugin } from './http/static.ts';
import type { Logger } from './kernel/log.ts';
import { Drain } from './ops/drain.ts';
import { gateJoins, refuseSocketsWhileDraining } from './ops/drainGate.ts';
import { withLogRedaction } from './ops/logRedaction.ts';
import { registerSecurityHeaders } from './ops/securityHeaders.ts';
import { iceSettingsFrom } from './ops/turn.ts';
import { roomHandlers } from './rooms/handlers.ts';
import { RoomRegistry } from './rooms/RoomRegistry.ts';
import { servicesPlugin, type TuttiServices } from './services.ts';
import { createStore, type Stores } from './store/createStore.ts';
import { ConnectionRegistry } from './transport/connections.ts';
import { httpTimeouts } from './transport/httpTimeouts.ts';
import { transportPlugin } from './transport/plugin.ts';

export interface BuildAppOptions {
  /** Fastify logger option; defaults to pino at config.server.logLevel. */
  logger?: boolean | { level: string };
  /** Use an existing pool instead of spawning one (shared across app instances in tests). */
  workerPool?: WorkerPool;
  /** Another chat bus (tests: one that fails); default from config (local or Redis). */
  chatBus?: ChatBus;
}

/**
 * Wiring only. Services first (workers, database, rooms, connections), then each concern
 * module in order (chat, files), then their contributions in one place: room extensions,
 * protoo handler tables, HTTP route plugins. Call `listen()` yourself; `close()` tells room
 * members, then closes sockets, workers and the database.
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
    // Members were told room.closed in preClose; WebSockets are handled by the transport.
    forceCloseConnections: true,
    ...httpTimeouts(config),
  });
  const log: Logger = app.log;

  // ── Services ────────────────────────────────────────────────────────────────────────
  const ownsPool = !opts.workerPool;
  const workers =
    opts.workerPool ??
    (await WorkerPool.create({
      numWorkers: config.media.numWorkers,
      workerBin: config.media.workerBin,
      logLevel: config.media.logLevel,
      loadSampleMs: config.media.loadSampleMs,
      log,
    }));
  let stores: Stores;
  let rooms: RoomRegistry;
  try {
    // PostgreSQL when database.url is set, else SQLite under data.dir (store/createStore.ts).
    stores = await createStore({
      databaseUrl: config.database.url,
      dataDir: config.data.dir,
      postgres: {
        connectTimeoutMs: config.database.connectTimeoutMs,
        statementTimeoutMs: config.database.statementTimeoutMs,
        onError: (err) => log.warn({ err }, 'database connection lost'),
      },
    });
  } catch (err) {
    if (ownsPool) workers.close();
    throw err;
  }
  try {
    rooms = await RoomRegistry.create({ config, store: stores.rooms, pool: workers, log });
  } catch (err) {
    await stores.close();
    if (ownsPool) workers.close();
    throw err;
  }
  const connections = new ConnectionRegistry();
  const drain = new Drain({ rooms, graceMs: config.server.drainGraceSeconds * 1000, log });
  const services: TuttiServices = {
    config,
    stores,
    db: stores.sqlite,
    workers,
    rooms,
    connections,
    drain,
  };

  // ── Concern modules, in order: each takes what it needs, none reaches into another ──
  const links = new FileLinks(config.files.secret);
  const concerns: Concern[] = [];
  try {
    // Room life (games, reactions, hands) first: chat hands its text to the games' screen.
    const games = createGamesModule({ rooms });
    concerns.push(games);
    const screen = games.screenChat;
    const chat = await createChatModule({
      config,
      store: stores.chat,
      rooms,
      log,
      present: links.present,
      screen,
      ...(opts.chatBus && { bus: opts.chatBus }),
    });
    concerns.push(chat);
    concerns.push(await createFilesModule({ config, rooms, links, announcer: chat.service }));
    concerns.push(createIngestModule({ rooms, log, draining: () => drain.draining })); // WHIP
    concerns.push(createRecordingModule({ config, rooms, links, log })); // issue #13
  } catch (err) {
    // A module that cannot start (Redis or S3 unreachable…) must not leave the rest running.
    for (const concern of concerns) await concern.close?.().catch(() => {});
    await stores.close();
    if (ownsPool) workers.close();
    throw err;
  }

  // ── Contributions, registered once before listening ─────────────────────────────────
  for (const concern of concerns) if (concern.rooms) rooms.use(concern.rooms);
  const handlerTables = gateJoins(
    [roomHandlers(rooms, iceSettingsFrom(config)), ...concerns.flatMap((c) => c.handlers ?? [])],
    drain,
  );
  const opsGuard = opsAccessGuard(config.metrics);

  await app.register(servicesPlugin, { services });
  app.setErrorHandler(httpErrorHandler);
  await registerSecurityHeaders(app); // First of the routes' plugins: its headers cover them all.
  await registerAuth(app, { config, store: stores.auth }); // accounts + social login (issue #11): /api/auth
  refuseSocketsWhileDraining(app, drain); // Before the transport: its /ws inherits the hook.
  await app.register(transportPlugin, {
    connections,
    handlerTables,
    onClosed: (channel) => rooms.connectionClosed(channel),
    log,
    rateLimit: config.signaling,
    limits: config.signaling,
  });
  await app.register(roomsHttpPlugin, { rooms });
  await app.register(healthPlugin, { workers, rooms, drain, guard: opsGuard });
  await app.register(metricsPlugin, { workers, rooms, connections, guard: opsGuard });
  for (const concern of concerns) await concern.http?.(app);
  // Last: owns the SPA fallback (not-found handler).
  await app.register(staticPlugin, { publicDir: config.server.publicDir });

  // preClose runs before the websocket plugin drops sockets: tell members first.
  app.addHook('preClose', async () => {
    await rooms.close();
  });
  app.addHook('onClose', async () => {
    drain.close();
    if (ownsPool) workers.close();
    for (const concern of concerns) await concern.close?.();
    await stores.close();
  });

  rooms.startCleanup();
  return app;
}
