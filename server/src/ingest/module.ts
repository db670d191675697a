import type { Logger } from '../kernel/log.ts';
import type { Concern } from '../module/concern.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { ingestHttpPlugin } from './http.ts';
import { IngestTokens } from './tokens.ts';
import type { WhepSession } from './WhepSession.ts';
import type { WhipSession } from './WhipSession.ts';
import type { MediaSettings, WorkerPool } from '@tutti/media-workers';

export interface IngestModuleOptions {
  rooms: RoomRegistry;
  media: MediaSettings;
  /** WHEP viewers get routers of their own. */
  pool: WorkerPool;
  log: Logger;
  /** WHIP sessions (and, apart, WHEP viewers) this node runs at once. */
  maxSessions?: number;
  /** True while the node drains (SIGTERM): new publishers are refused like joins. */
  draining?: () => boolean;
}

/** WHIP ingest and WHEP playback (issue #13): owner-made tokens, publishers that join rooms as members, viewers that do not. */
export function createIngestModule(opts: IngestModuleOptions): Concern {
  const tokens = new IngestTokens();
  /** Resource id (the Location's last segment) → session. */
  const sessions = new Map<string, WhipSession>();
  const viewers = new Map<string, WhepSession>();
  const log = opts.log.child({ module: 'ingest' });
  return {
    rooms: {
      roomDeleted: (roomId) => {
        tokens.dropRoom(roomId);
        for (const v of [...viewers.values()]) if (v.roomId === roomId) v.close();
      },
    },
    async http(app) {
      await app.register(ingestHttpPlugin, {
        rooms: opts.rooms,
        tokens,
        sessions,
        viewers,
        media: opts.media,
        pool: opts.pool,
        log,
        maxSessions: opts.maxSessions ?? 100,
        draining: opts.draining ?? (() => false),
      });
    },
    async close() {
      for (const s of [...sessions.values(), ...viewers.values()]) s.close();
    },
  };
}
