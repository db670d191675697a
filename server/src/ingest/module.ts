import type { Logger } from '../kernel/log.ts';
import type { Concern } from '../module/concern.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { ingestHttpPlugin } from './http.ts';
import { IngestTokens } from './tokens.ts';
import type { WhipSession } from './WhipSession.ts';

export interface IngestModuleOptions {
  rooms: RoomRegistry;
  log: Logger;
  /** WHIP sessions this node runs at once. */
  maxSessions?: number;
  /** True while the node drains (SIGTERM): new publishers are refused like joins. */
  draining?: () => boolean;
}

/** WHIP ingest (issue #13): owner-made tokens, publishers that join rooms as members. */
export function createIngestModule(opts: IngestModuleOptions): Concern {
  const tokens = new IngestTokens();
  /** Resource id (the Location's last segment) → session. */
  const sessions = new Map<string, WhipSession>();
  const log = opts.log.child({ module: 'ingest' });
  return {
    rooms: {
      roomDeleted: (roomId) => tokens.dropRoom(roomId),
    },
    async http(app) {
      await app.register(ingestHttpPlugin, {
        rooms: opts.rooms,
        tokens,
        sessions,
        log,
        maxSessions: opts.maxSessions ?? 100,
        draining: opts.draining ?? (() => false),
      });
    },
    async close() {
      for (const s of [...sessions.values()]) s.close();
    },
  };
}
