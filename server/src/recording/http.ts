import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { TuttiError } from '@tutti/protocol';
import { parseRange, replyRange } from '../files/range.ts';
import type { TokenSigner } from '../files/tokens.ts';
import type { Storage } from '../files/Storage.ts';
import type { RoomDirectory } from '../rooms/ports.ts';
import type { Catalog } from './Catalog.ts';
import { RECORDINGS_PATH, recordingKey } from './record.ts';
import { safeParseInput } from '@tutti/protocol/schemas';

export interface RecordingHttpOptions {
  rooms: RoomDirectory;
  catalog: Catalog;
  storage: Storage;
  tokens: TokenSigner;
}

const params = z.object({
  roomId: z.string().min(1).max(64),
  recordingId: z.uuid(),
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]*$/)
    .max(64),
});
const query = z.object({ t: z.string().max(512).optional() });

const TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
};

/**
 * GET {RECORDINGS_PATH}/:roomId/:recordingId/:name?t=<access token>: a recording's file,
 * for members of the room only (the token names a member, who must still be inside).
 */
export const recordingHttpPlugin: FastifyPluginAsync<RecordingHttpOptions> = async (app, opts) => {
  app.get(`${RECORDINGS_PATH}/:roomId/:recordingId/:name`, async (req, reply) => {
    const p = safeParseInput(params, req.params);
    const q = safeParseInput(query, req.query);
    if (!p.success || !q.success) throw new TuttiError('NOT_FOUND', 'no such recording');
    const { roomId, recordingId, name } = p.data;
    const claims = q.data.t ? opts.tokens.verify(q.data.t, 'a') : undefined;
    if (!claims || claims.roomId !== roomId || !opts.rooms.member(roomId, claims.peerId)) {
      throw new TuttiError('FORBIDDEN', 'only members of the room can download its recordings');
    }
    const record = await opts.catalog.find(roomId, recordingId);
    const file = [record?.composite, ...(record?.tracks ?? [])].find((f) => f?.name === name);
    if (!file) throw new TuttiError('NOT_FOUND', 'no such recording');
    const range = parseRange(req.headers.range, file.size);
    if (range === 'unsatisfiable') {
      return reply.status(416).header('content-range', `bytes */${file.size}`).send();
    }
    const stream = await opts.storage.get(recordingKey(roomId, recordingId, name), range);
    reply
      .header('content-type', TYPES[name.split('.').at(-1) ?? ''] ?? 'application/octet-stream')
      .header(
        'content-disposition',
        `attachment; filename="recording-${recordingId.slice(0, 8)}-${name}"`,
      )
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'private, no-cache')
      .header('accept-ranges', 'bytes');
    return replyRange(reply, range, file.size).send(stream);
  });
};
