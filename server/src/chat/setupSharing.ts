import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { TuttiServices } from '../app.ts';
import { FilesService } from '../files/FilesService.ts';
import { fileHandlers } from '../files/handlers.ts';
import { LocalDiskStorage } from '../files/LocalDiskStorage.ts';
import { S3Storage } from '../files/S3Storage.ts';
import type { Storage } from '../files/Storage.ts';
import { filesHttpPlugin } from '../http/files.ts';
import type { HandlerTable, RoomDirectory } from '../rooms/ports.ts';
import { SqliteChatStore } from '../store/chatStoreSqlite.ts';
import type { ChatBus } from './ChatBus.ts';
import { ChatService, type ChatRooms } from './ChatService.ts';
import { chatHandlers } from './handlers.ts';
import { LocalChatBus } from './LocalChatBus.ts';
import { RedisChatBus } from './RedisChatBus.ts';

export interface Sharing {
  chat: ChatService;
  files: FilesService;
  storage: Storage;
  handlerTables: HandlerTable[];
  httpPlugin: FastifyPluginAsync;
  close(): Promise<void>;
}

/**
 * Wires chat and file sharing into the app: stores in the shared SQLite database, the
 * configured bus and storage driver, join history, and clean-up when rooms go.
 */
export async function setupSharing(services: TuttiServices): Promise<Sharing> {
  const { config } = services;
  const rooms = roomsView(services.rooms);
  const store = new SqliteChatStore(services.db);
  const bus: ChatBus = config.redis.url ? new RedisChatBus(config.redis.url) : new LocalChatBus();
  if (bus instanceof RedisChatBus) await bus.ready();
  const storage = createStorage(services);
  if (storage instanceof S3Storage && config.files.s3.createBucket) await storage.ensureBucket();
  if (storage instanceof LocalDiskStorage) await storage.sweepPartials();

  const chat = new ChatService({ store, bus, rooms, settings: config.chat });
  const files = new FilesService({ storage, chat, rooms, settings: config.files });

  // Read in the same tick the peer was admitted: earlier messages are in this page,
  // later ones reach the peer as chat.message.
  services.rooms.use({
    joinAnswer: (_roomId, member) => ({ history: chat.historyOnJoin(member) }),
    // The chat rate is per connection: leaving and re-joining must not reset it.
    connectionClosed: (member) => chat.peerDisconnected(member.id),
    roomDeleted: async (roomId) => {
      chat.deleteRoom(roomId);
      await files.deleteRoom(roomId);
    },
  });

  return {
    chat,
    files,
    storage,
    handlerTables: [chatHandlers(chat), fileHandlers(files)],
    httpPlugin: filesHttpPlugin(files),
    async close() {
      chat.close();
      await bus.close();
      await storage.close();
    },
  };
}

function createStorage({ config }: TuttiServices): Storage {
  if (config.files.driver === 's3') return new S3Storage(config.files.s3);
  return new LocalDiskStorage(join(config.data.dir, 'files'));
}

/** The room directory seen through what chat and files need. */
function roomsView(directory: RoomDirectory): ChatRooms {
  return {
    localMembers: (roomId) => directory.members(roomId),
    member: (roomId, peerId) => directory.member(roomId, peerId),
  };
}
