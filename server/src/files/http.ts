import multipart from '@fastify/multipart';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { contentDisposition } from './filename.ts';
import type { FilesService } from './FilesService.ts';
import { FILES_PATH } from './links.ts';
import { parseRange, replyRange } from './range.ts';
import { tooLarge } from './sniff.ts';
import type { UploadSlot } from './UploadQuota.ts';
import { TuttiError } from '@tutti/protocol';
import { safeParseInput } from '@tutti/protocol/schemas';

/** Multipart framing around one file: headers, boundary, a few small fields. */
const MULTIPART_OVERHEAD = 64 * 1024;
/** After a refusal, at most this much of the rest of the body is read and discarded. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

const downloadParams = z.object({ roomId: z.string().min(1).max(64), fileId: z.uuid() });
const downloadQuery = z.object({
  t: z.string().max(512).optional(),
  inline: z.string().optional(),
});

/**
 * File bytes over HTTP (everything else rides the protoo socket):
 *  POST {FILES_PATH}?token=<upload token>   multipart, one file part → 201 { message }
 *  GET  {FILES_PATH}/:roomId/:fileId/:name?t=<access token>[&inline=1]   Range supported
 */
export const filesHttpPlugin: FastifyPluginAsync<{ files: FilesService }> = async (
  app,
  { files },
) => {
  // Scoped to these routes; the file size is enforced by SniffStream, busboy's limit is
  // only a backstop one byte above it.
  await app.register(multipart, {
    limits: { fileSize: files.maxBytes + 1, files: 1, fields: 4, fieldSize: 1024, parts: 5 },
  });

  app.post(FILES_PATH, async (req, reply) => {
    const query = req.query as { token?: unknown };
    const token = typeof query.token === 'string' ? query.token : bearer(req.headers.authorization);
    let slot: UploadSlot | undefined;
    try {
      const uploader = files.uploader(token);
      const declared = Number(req.headers['content-length']);
      if (declared > files.maxBytes + MULTIPART_OVERHEAD) throw tooLarge(files.maxBytes);
      if (!req.isMultipart()) {
        throw new TuttiError('INVALID_REQUEST', 'send the file as multipart/form-data');
      }
      // Before the body is read: concurrency, chat budget, quotas (for the declared size).
      const minBytes = Number.isFinite(declared) ? Math.max(0, declared - MULTIPART_OVERHEAD) : 0;
      slot = await files.admit(uploader, minBytes);
      const part = await req.file();
      if (!part) throw new TuttiError('INVALID_REQUEST', 'no file in the request');
      const message = await files.upload(uploader, slot, part.filename, part.file);
      return await reply.status(201).send({ message });
    } catch (err) {
      return refuse(req, reply, err, files.maxBytes);
    } finally {
      slot?.release();
    }
  });

  app.get(`${FILES_PATH}/:roomId/:fileId/*`, download);
  app.get(`${FILES_PATH}/:roomId/:fileId`, download);

  async function download(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const params = safeParseInput(downloadParams, req.params);
    const query = safeParseInput(downloadQuery, req.query);
    if (!params.success || !query.success) throw new TuttiError('NOT_FOUND', 'no such file');
    const { roomId, fileId } = params.data;
    const file = await files.authorizeDownload(roomId, fileId, query.data.t);
    const range = parseRange(req.headers.range, file.size);
    if (range === 'unsatisfiable') {
      return reply
        .status(416)
        .header('accept-ranges', 'bytes')
        .header('content-range', `bytes */${file.size}`)
        .send();
    }
    // Opened before any header is set, so a missing object still gets a JSON error.
    const stream = await files.open(roomId, fileId, range);
    // Inline only for raster images (sniffed); everything else is a download.
    const inline = query.data.inline === '1' && file.type.startsWith('image/');
    reply
      .header('content-type', file.type === 'text/plain' ? 'text/plain; charset=utf-8' : file.type)
      .header(
        'content-disposition',
        contentDisposition(inline ? 'inline' : 'attachment', file.name),
      )
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('cache-control', 'private, no-cache')
      .header('accept-ranges', 'bytes');
    return replyRange(reply, range, file.size).send(stream);
  }
};

function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

/**
 * Sends the refusal. The client may still be sending the body: read and discard it (up
 * to a bound) so it gets to read the error instead of a reset connection.
 */
async function refuse(
  req: FastifyRequest,
  reply: FastifyReply,
  err: unknown,
  maxBytes: number,
): Promise<FastifyReply> {
  const error = asTuttiError(err, maxBytes);
  if (error.status >= 500) req.log.error({ err }, 'upload failed');
  if (!req.raw.complete && !req.raw.destroyed) {
    // No `connection: close`: Node would destroy the socket as soon as the refusal is
    // written, cutting the drain short; the client's next write then meets a reset.
    void reply.status(error.status).send({ error: error.code, message: error.message });
    await drain(req, DRAIN_LIMIT);
    return reply;
  }
  return reply.status(error.status).send({ error: error.code, message: error.message });
}

function asTuttiError(err: unknown, maxBytes: number): TuttiError {
  if (err instanceof TuttiError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (
    code === 'FST_REQ_FILE_TOO_LARGE' ||
    code === 'FST_PARTS_LIMIT' ||
    code === 'FST_FILES_LIMIT'
  ) {
    return tooLarge(maxBytes);
  }
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE' || code === 'FST_PROTO_VIOLATION') {
    return new TuttiError('INVALID_REQUEST', 'malformed multipart body');
  }
  return new TuttiError('INTERNAL', 'upload failed');
}

function drain(req: FastifyRequest, limit: number): Promise<void> {
  const raw = req.raw;
  return new Promise((resolve) => {
    let seen = 0;
    const done = (): void => {
      raw.off('data', onData);
      raw.off('end', done);
      raw.off('close', done);
      clearTimeout(timer);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > limit) {
        raw.destroy();
        done();
      }
    };
    // Whatever was piped (busboy) must stop taking it; we only discard from here on.
    raw.unpipe();
    raw.on('data', onData);
    raw.once('end', done);
    raw.once('close', done);
    raw.resume();
    // Past the time bound the connection is dropped (a half-read body cannot be reused).
    const timer = setTimeout(() => {
      raw.destroy();
      done();
    }, 10_000);
  });
}
