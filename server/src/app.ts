import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '@tutti/config';
import { WorkerPool } from '@tutti/media-workers';
import { createAdminModule } from './admin/module.ts';
import { createAuth, registerAuth, type Auth } from './auth/index.ts';
import { readCookie, SESSION_COOKIE } from './auth/cookies.ts';
import { createCaptionsModule } from './captions/module.ts';
import type { ChatBus } from './chat/ChatBus.ts';
import { createChatModule } from './chat/module.ts';
import type { Concern } from './module/concern.ts';
import { FileLinks } from './files/links.ts';
import { createFilesModule } from './files/module.ts';
import type { LocalClusterHub } from './cluster/index.ts';
import { createMediaFederation } from './federation/mediaFederation.ts';
import { createModerationRelay } from './federation/moderationRelay.ts';
import { createRecordingRelay } from './federation/recordingRelay.ts';
import { createE2eeEpochRelay } from './federation/e2eeEpochs.ts';
import { chatCarrier, identityCarrier } from './federation/carriers.ts';
import { createHandover } from './federation/handover.ts';
import { createRoomLifeRelay } from './federation/roomLifeRelay.ts';
import { createCaptionsRelay } from './federation/captionsRelay.ts';
import type { RemoteCaptions } from './captions/remote.ts';
import type { RemoteModeration } from './moderation/remote.ts';
import type { RemoteRecording } from './recording/remote.ts';
import type { RemoteEpochs } from './e2ee/remote.ts';
import { checkClusterFiles, createClusterNode, type ClusterNode } from './federation/node.ts';
import { createGamesModule } from './games/module.ts';
import type { RemoteRoomLife } from './games/remote.ts';
import { httpErrorHandler } from './http/errors.ts';
import { createIngestModule } from './ingest/module.ts';
import { createRecordingModule } from './recording/module.ts';
import { createE2eeModule } from './e2ee/module.ts';
import { healthPlugin } from './http/health.ts';
import { metricsPlugin } from './http/metrics.ts';
import { opsAccessGuard } from './http/opsAccess.ts';
import { roomsHttpPlugin } from './http/rooms.ts';
import { staticPlugin } from './http/static.ts';
import type { Logger } from './kernel/log.ts';
import type { MemberChannel } from './rooms/ports.ts';
import { Drain } from './ops/drain.ts';
import { gateJoins, refuseSocketsWhileDraining } from './ops/drainGate.ts';
import { withLogRedaction } from './ops/logRedaction.ts';
import { registerSecurityHeaders } from './ops/securityHeaders.ts';
import { iceSettingsFrom } from './ops/turn.ts';
import { roomHandlers } from './rooms/handlers.ts';
import { createModerationModule } from './moderation/module.ts';
import { RoomRegistry } from './rooms/RoomRegistry.ts';
import { membershipSnapshot } from './rooms/resume.ts';
import { servicesPlugin, type TuttiServices } from './services.ts';
import { createStore, type Stores } from './store/createStore.ts';
import { ConnectionRegistry } from './transport/connections.ts';
import { httpTimeouts } from './transport/httpTimeouts.ts';
import { refuseCrossOriginSockets } from './transport/originGuard.ts';
import { transportPlugin } from './transport/plugin.ts';
import { createWebhooksModule } from './webhooks/module.ts';
import { ResumeSessions } from './transport/resume.ts';
import { sessionHandlers, withResumeTokens } from './transport/sessionHandlers.ts';

export interface BuildAppOptions {
  /** Fastify logger option; defaults to pino at config.server.logLevel. */
  logger?: boolean | { level: string };
  /** Use an existing pool instead of spawning one (shared across app instances in tests). */
  workerPool?: WorkerPool;
  /** Another chat bus (tests: one that fails); default from config (local or Redis). */
  chatBus?: ChatBus;
  /** In-process cluster (tests with several apps as nodes): without Redis they share it. */
  clusterHub?: LocalClusterHub;
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
  checkClusterFiles(config); // Before anything starts: a clear error, nothing to clean up.
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
  // Redis when redis.url is set, else a cluster of one (federation/node.ts).
  const cluster: ClusterNode = createClusterNode({
    config,
    workers,
    rooms,
    store: stores.rooms,
    drain,
    log,
    ...(opts.clusterHub && { hub: opts.clusterHub }),
  });
  // Producers of members on other nodes, piped in; ours piped out (docs/cluster.md).
  const mediaFederation = createMediaFederation({
    cluster,
    room: (id) => rooms.get(id),
    config,
    log,
  });
  const services: TuttiServices = {
    config,
    stores,
    db: stores.sqlite,
    workers,
    rooms,
    connections,
    drain,
    cluster,
    mediaFederation,
  };

  // ── Concern modules, in order: each takes what it needs, none reaches into another ──
  const links = new FileLinks(config.files.secret);
  const concerns: Concern[] = [];
  let auth: Auth;
  let admin: ReturnType<typeof createAdminModule>;
  let moderation: ReturnType<typeof createModerationModule>;
  let chat: Awaited<ReturnType<typeof createChatModule>>;
  try {
    auth = createAuth({ config, store: stores.auth }); // Throws on a provider that is not https.
    // API keys, join tokens, the guest rule, the admin API (docs/admin-api.md).
    admin = createAdminModule({
      config,
      rooms,
      store: stores.auth,
      sessionToken: (req) => readCookie(req, SESSION_COOKIE),
      sessionLive: async (token) => (await auth.accounts.userOf(token)) !== undefined,
      moderation: () => moderation.actions,
    });
    concerns.push(admin);
    // Room life (games, reactions, hands) first: chat hands its text to the games' screen.
    // Each room's life runs on one node; the others forward to it (federation/roomLifeRelay).
    const lifeRelay: { to?: RemoteRoomLife } = {};
    const games = createGamesModule({ rooms, remote: () => lifeRelay.to });
    lifeRelay.to = createRoomLifeRelay({
      cluster,
      rooms,
      service: games.service,
      log: log.child({ module: 'room-life' }),
      timeoutMs: config.cluster.rpcTimeoutMs,
    });
    concerns.push(games);
    const screen = games.screenChat;
    chat = await createChatModule({
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
    concerns.push(
      createIngestModule({
        rooms,
        media: config.media,
        pool: workers,
        log,
        draining: () => drain.draining,
      }),
    ); // WHIP, WHEP
    // Roles, moderator actions, the waiting room; a target on another node: relayed there.
    const relay: { to?: RemoteModeration } = {};
    moderation = createModerationModule({
      rooms,
      store: stores.rooms,
      log,
      remote: () => relay.to,
    });
    relay.to = createModerationRelay({
      cluster,
      rooms,
      actions: moderation.actions,
      moderation: moderation.moderation,
      log: log.child({ module: 'moderation' }),
    });
    concerns.push(moderation);
    const webhooks = createWebhooksModule({
      config,
      log,
      roomName: (id) => rooms.get(id)?.record.name,
      memberInfo: (roomId, id) => rooms.get(roomId)?.member(id)?.info,
      identityOf: admin.identityOf,
      sessions: cluster.roomSessions, // room_started / room_finished once for the cluster
    });
    concerns.push(webhooks);
    const postChat = (peer: MemberChannel, text: string) => chat.service.send(peer, { text });
    const captionsRelay: { to?: RemoteCaptions } = {};
    const captions = createCaptionsModule({
      config,
      rooms,
      log,
      postChat,
      remote: () => captionsRelay.to,
    });
    captionsRelay.to = createCaptionsRelay({
      cluster,
      service: captions.service,
      log: log.child({ module: 'captions' }),
      timeoutMs: config.cluster.rpcTimeoutMs,
    });
    concerns.push(captions); // live captions, their lines across nodes
    // A room recorded on another node: its state shown here, a stop relayed there.
    const recordingRelay: { to?: RemoteRecording } = {};
    const recording = createRecordingModule({
      config,
      rooms,
      links,
      log,
      remote: () => recordingRelay.to,
      // recording_started / recording_finished, with the room's name, to the webhooks.
      events: (event, data) =>
        webhooks.sender.send(event, {
          ...data,
          room: { id: data.room.id, name: rooms.get(data.room.id)?.record.name ?? '' },
        }),
    });
    recordingRelay.to = createRecordingRelay({
      cluster,
      rooms,
      local: recording.recorder,
      log,
      timeoutMs: config.cluster.rpcTimeoutMs,
    });
    concerns.push(recording); // issue #13
    // E2EE key epochs (the server holds no key), followed across nodes.
    const epochRelay: { to?: RemoteEpochs } = {};
    const e2ee = createE2eeModule({ rooms, log, remote: () => epochRelay.to });
    epochRelay.to = createE2eeEpochRelay({
      cluster,
      local: e2ee,
      log,
      timeoutMs: config.cluster.rpcTimeoutMs,
    });
    concerns.push(e2ee);
    await cluster.start(); // Bounded: with Redis down it starts anyway and retries.
  } catch (err) {
    // A module that cannot start (Redis or S3 unreachable…) must not leave the rest running.
    for (const concern of concerns) await concern.close?.().catch(() => {});
    await cluster.stop().catch(() => {});
    await stores.close();
    if (ownsPool) workers.close();
    throw err;
  }

  // ── Contributions, registered once before listening ─────────────────────────────────
  for (const concern of concerns) if (concern.rooms) rooms.use(concern.rooms);
  // Membership resume after a dropped socket (docs/reconnect.md).
  const sessions = new ResumeSessions({
    graceMs: config.server.resumeGraceSeconds * 1000,
    maxBufferedBytes: config.signaling.maxBufferedBytes,
    isMember: (channel) => rooms.membership(channel.id) !== undefined,
    holdMembers: () => !drain.draining,
    nodeId: cluster.nodeId,
    onClosed: (channel) => rooms.connectionClosed(channel),
    log,
  });
  rooms.use(mediaFederation.rooms);
  // A token another node of the cluster issued: that node hands the membership over.
  const handover = createHandover({
    cluster,
    moves: cluster.moves,
    rooms,
    sessions,
    log: log.child({ module: 'handover' }),
    timeoutMs: config.cluster.rpcTimeoutMs,
    carry: [moderation.carry, chatCarrier(chat.service, log), identityCarrier(admin.identityOf)],
    carried: (from, to, state) => {
      moderation.identities.alias(from, to);
      admin.identified(to, state.identity);
    },
  });
  const handlerTables = gateJoins(
    withResumeTokens(
      [
        roomHandlers(rooms, iceSettingsFrom(config), admin.joinPolicy, moderation),
        sessionHandlers(
          sessions,
          (channel) => membershipSnapshot(rooms, channel),
          handover.resumeFrom,
        ),
        ...concerns.flatMap((c) => c.handlers ?? []),
      ],
      sessions,
    ),
    drain,
  );
  const opsGuard = opsAccessGuard(config.metrics);

  await app.register(servicesPlugin, { services });
  app.setErrorHandler(httpErrorHandler);
  await registerSecurityHeaders(app); // First of the routes' plugins: its headers cover them all.
  await registerAuth(app, { config, auth }); // accounts + social login (issue #11): /api/auth
  refuseSocketsWhileDraining(app, drain); // Before the transport: its /ws inherits the hook.
  refuseCrossOriginSockets(app, { ...config.signaling, publicUrl: config.server.publicUrl });
  await app.register(transportPlugin, {
    connections,
    handlerTables,
    sessions,
    // Whose session the socket carries: the guest rule, room ownership, signed-in only
    // rooms, nicknames.
    onOpened: (channel, req) => {
      admin.connectionOpened(channel, req);
      moderation.identities.opened(channel.id, auth.userOfRequest(req));
    },
    log,
    rateLimit: config.signaling,
    limits: config.signaling,
  });
  await app.register(roomsHttpPlugin, {
    rooms,
    accountOf: async (req) => (await auth.userOfRequest(req).catch(() => undefined))?.id ?? null,
  });
  await app.register(healthPlugin, {
    workers,
    rooms,
    drain,
    guard: opsGuard,
    // A node that cannot reach the cluster's Redis must not take new peers.
    readiness: [() => (cluster.registry.healthy ? undefined : 'cluster')],
  });
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
    mediaFederation.close();
    handover.close();
    await cluster.stop(); // Seats given back, registry entry removed.
    await stores.close();
  });

  rooms.startCleanup();
  return app;
}
