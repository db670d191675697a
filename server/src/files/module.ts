import { join } from 'node:path';
import type { Config } from '@tutti/config';
import type { Concern } from '../module/concern.ts';
import { filesHttpPlugin } from './http.ts';
import type { RoomDirectory } from '../rooms/ports.ts';
import { FilesService, type FileAnnouncer } from './FilesService.ts';
import { fileHandlers } from './handlers.ts';
import type { FileLinks } from './links.ts';
import { LocalDiskStorage } from './LocalDiskStorage.ts';
import { S3Storage } from './S3Storage.ts';
import type { Storage } from './Storage.ts';

export interface FilesModuleOptions {
  config: Config;
  rooms: RoomDirectory;
  links: FileLinks;
  /** Where uploads are announced (the chat history). */
  announcer: FileAnnouncer;
}

/** File sharing: the configured storage driver, the service, its handlers and HTTP routes. */
export async function createFilesModule(
  opts: FilesModuleOptions,
): Promise<Concern & { service: FilesService }> {
  const { config } = opts;
  const storage = createStorage(config);
  if (storage instanceof S3Storage && config.files.s3.createBucket) await storage.ensureBucket();
  if (storage instanceof LocalDiskStorage) await storage.sweepPartials();
  const service = new FilesService({
    storage,
    announcer: opts.announcer,
    rooms: opts.rooms,
    links: opts.links,
    settings: config.files,
  });
  return {
    service,
    handlers: fileHandlers(service),
    rooms: {
      roomDeleted: async (roomId) => {
        await service.deleteRoom(roomId);
      },
      connectionClosed: (member) => service.connectionClosed(member.id),
    },
    async http(app) {
      await app.register(filesHttpPlugin, { files: service });
    },
    async close() {
      await storage.close();
    },
  };
}

function createStorage(config: Config): Storage {
  if (config.files.driver === 's3') {
    return new S3Storage({ ...config.files.s3, stallTimeoutMs: config.files.stallTimeoutMs });
  }
  return new LocalDiskStorage(join(config.data.dir, 'files'));
}
