import type { Config } from '@tutti/config';
import type { Logger } from '../kernel/log.ts';
import type { Concern } from '../module/concern.ts';
import type { RoomDirectory } from '../rooms/ports.ts';
import type { ChatStore } from '../store/chatStore.ts';
import type { ChatBus } from './ChatBus.ts';
import { ChatService, type ChatScreen, type Presenter } from './ChatService.ts';
import { chatHandlers } from './handlers.ts';
import { LocalChatBus } from './LocalChatBus.ts';
import { RedisChatBus } from './RedisChatBus.ts';
import { ChatTrace } from './trace.ts';

export interface ChatModuleOptions {
  config: Config;
  /** The history (SQLite or PostgreSQL, picked by store/createStore.ts). */
  store: ChatStore;
  /** Another bus (tests); default: LocalChatBus, or RedisChatBus when redis.url is set. */
  bus?: ChatBus;
  rooms: RoomDirectory;
  log: Logger;
  /** Personalises file messages per recipient (the files concern's links). */
  present?: Presenter;
  /** Sees chat text before it is stored (the games module's guesses). */
  screen?: ChatScreen;
}

/** Chat: the store, the configured bus, the service, its handlers and its room extension. */
export async function createChatModule(
  opts: ChatModuleOptions,
): Promise<Concern & { service: ChatService }> {
  const { config } = opts;
  const bus: ChatBus =
    opts.bus ??
    (config.redis.url
      ? new RedisChatBus(config.redis.url, {
          log: opts.log.child({ module: 'chat-bus' }),
          // The cluster secret signs bus messages: a forged publish on Redis is dropped.
          secret: config.files.secret,
          // Under the cluster's prefix, as every key and channel: clusters sharing a Redis stay apart.
          channel: `${config.cluster.redisPrefix}chat`,
          commandTimeoutMs: config.redis.commandTimeoutMs,
          coalesceWrites: config.chat.coalesceBusWrites,
        })
      : new LocalChatBus());
  if (config.redis.url && !config.files.secret) {
    opts.log.warn(
      {},
      'redis.url without files.secret: chat from other nodes is dropped (set TUTTI_FILES_SECRET on every node)',
    );
  }
  if (bus instanceof RedisChatBus) await bus.ready();
  const trace = config.chat.traceDir ? new ChatTrace(config.chat.traceDir) : undefined;
  const service = new ChatService({
    store: opts.store,
    bus,
    rooms: opts.rooms,
    // Waiting in a room's queue longer than a statement may take means the store hangs.
    settings: { ...config.chat, queueWaitMs: config.database.statementTimeoutMs },
    present: opts.present,
    screen: opts.screen,
    trace,
  });
  return {
    service,
    handlers: chatHandlers(service),
    rooms: {
      // Read in the same tick the member was admitted: earlier messages are in this page,
      // later ones reach it as chat.message.
      joinAnswer: async (_roomId, member) => ({ history: await service.historyOnJoin(member) }),
      roomDeleted: (roomId) => service.deleteRoom(roomId),
      // The chat rate is per connection: leaving and re-joining must not reset it.
      connectionClosed: (member) => service.connectionClosed(member.id),
      // What this node delivered in a room matters while it has members there (catchUp.ts).
      memberLeft: (roomId, _id, empty) => void (empty && service.roomEmptied(roomId)),
      memberDeparted: (roomId, _id, empty) => void (empty && service.roomEmptied(roomId)),
    },
    async close() {
      service.close();
      trace?.close();
      await bus.close();
    },
  };
}
