import type { Config } from '@tutti/config';
import type { FileLinks } from '../files/links.ts';
import type { Logger } from '../kernel/log.ts';
import type { Concern } from '../module/concern.ts';
import type { HandlerTable } from '../rooms/ports.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { Catalog } from './Catalog.ts';
import { recordingHttpPlugin } from './http.ts';
import { Recorder, type RecorderDeps } from './Recorder.ts';
import { recordingStorage } from './storage.ts';

export interface RecordingModuleOptions {
  config: Config;
  rooms: RoomRegistry;
  links: FileLinks;
  log: Logger;
  /** Recording events for the webhooks (recording_started, recording_finished). */
  events?: RecorderDeps['events'];
  /** The room's recording on other nodes (federation/recordingRelay.ts), once built. */
  remote?: RecorderDeps['remote'];
}

/** Server-side recording (issue #13): per-track ffmpeg writers, a composite, stored files. */
export function createRecordingModule(opts: RecordingModuleOptions): Concern & {
  recorder: Recorder;
} {
  const { rooms } = opts;
  const log = opts.log.child({ module: 'recording' });
  const storage = recordingStorage(opts.config);
  const catalog = new Catalog(storage, log);
  const recorder = new Recorder({ ...opts, storage, catalog, tokens: opts.links.tokens, log });

  const handlers: HandlerTable = {
    'recording.start': async ({ peer }, data) => ({
      state: await recorder.start(
        rooms.requireMembership(peer.id).roomId,
        peer.id,
        data.ownerSecret,
      ),
    }),
    'recording.stop': async ({ peer }, data) => ({
      state: await recorder.stop(
        rooms.requireMembership(peer.id).roomId,
        peer.id,
        data.ownerSecret,
      ),
    }),
    'recording.list': ({ peer }) =>
      recorder.extras(rooms.requireMembership(peer.id).roomId, peer.id),
  };

  return {
    recorder,
    handlers,
    rooms: {
      joinAnswer: (roomId, member) => recorder.extras(roomId, member.id),
      memberLeft: (roomId, _memberId, roomEmpty) => {
        if (roomEmpty) recorder.roomEmpty(roomId);
      },
      memberDeparted: (roomId, _memberId, roomEmpty) => {
        if (roomEmpty) recorder.roomEmpty(roomId);
      },
      roomDeleted: (roomId) => recorder.roomDeleted(roomId),
    },
    async http(app) {
      await app.register(recordingHttpPlugin, {
        rooms,
        catalog,
        storage,
        tokens: opts.links.tokens,
      });
    },
    async close() {
      await recorder.close();
      await storage.close();
    },
  };
}
