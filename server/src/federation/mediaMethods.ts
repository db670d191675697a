import { z } from 'zod';
import type { RtpParameters, SrtpParameters } from 'mediasoup/types';
import { idSchema, mediaSourceSchema } from '@tutti/protocol/schemas';
import type { RpcMethods } from '../cluster/index.ts';

// Cross-node media (docs/cluster.md, "Media across nodes"): an edge node (one with members
// in a room) watches the other nodes hosting it, opens one SRTP PipeTransport pair per
// (room, origin) and pipes in the producers its members consume. Deep RTP parameters are
// shape-checked here and fully validated by mediasoup.

const roomId = idSchema;

/** Only the shape: mediasoup checks the codecs and encodings themselves. */
const rtpParametersSchema = z.custom<RtpParameters>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    Array.isArray((v as { codecs?: unknown }).codecs) &&
    Array.isArray((v as { encodings?: unknown }).encodings),
  'expected RTP parameters',
);

const srtpParametersSchema = z
  .object({
    cryptoSuite: z.enum([
      'AEAD_AES_256_GCM',
      'AEAD_AES_128_GCM',
      'AES_CM_128_HMAC_SHA1_80',
      'AES_CM_128_HMAC_SHA1_32',
    ]),
    keyBase64: z.string().min(16).max(256),
  })
  .strict() satisfies z.ZodType<SrtpParameters>;

/** One end of a pipe: where it listens and its SRTP key. */
const pipeEndSchema = z
  .object({
    ip: z.string().min(1).max(64),
    port: z.number().int().min(1).max(65535),
    srtpParameters: srtpParametersSchema,
  })
  .strict();

/** A producer of the origin node, as the edge needs it to pipe it in. */
export const remoteProducerSchema = z
  .object({
    producerId: idSchema,
    kind: z.enum(['audio', 'video']),
    source: mediaSourceSchema,
    peerId: idSchema,
    paused: z.boolean(),
  })
  .strict();
export type RemoteProducerInfo = z.output<typeof remoteProducerSchema>;

/**
 * How new what an origin says is (federation/announcementOrder.ts): its process (epoch) and
 * its count of announcements so far. An announcement carries its own number; a list or an
 * answer carries the count it was made at.
 */
export const stampSchema = z
  .object({ epoch: idSchema, seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) })
  .strict();
export type Stamp = z.output<typeof stampSchema>;

/** At most this many rooms per media.rewatch (the edge asks in chunks). */
export const REWATCH_MAX_ROOMS = 50;
const producerList = () => z.array(remoteProducerSchema).max(1000);

const ok = () => z.object({}).strict();
const ofRoom = () => z.object({ roomId }).strict();
const ofProducer = () => z.object({ roomId, producerId: idSchema }).strict();
const stamped = () => z.object({ roomId, producerId: idSchema, stamp: stampSchema }).strict();

export const mediaMethods = {
  /** Edge → origin: "I host members of this room": tell me its producers, now and later. */
  'media.watch': {
    request: ofRoom(),
    response: z.object({ producers: producerList(), stamp: stampSchema }).strict(),
  },
  /**
   * Edge → origin, every cluster.mediaReconcileMs: "I still watch these rooms" (a watcher the
   * origin dropped is added back); each room's producers now, to repair lost announcements.
   */
  'media.rewatch': {
    request: z
      .object({ roomIds: z.array(roomId).min(1).max(REWATCH_MAX_ROOMS) })
      .strict()
      .refine((d) => new Set(d.roomIds).size === d.roomIds.length, 'rooms listed twice'),
    response: z
      .object({
        rooms: z
          .array(z.object({ roomId, producers: producerList() }).strict())
          .max(REWATCH_MAX_ROOMS),
        stamp: stampSchema,
      })
      .strict(),
  },
  /** Edge → origin: no member of the room left here; close my pipe and stop telling me. */
  'media.unwatch': { request: ofRoom(), response: ok() },
  /** Edge → origin: open (or reuse) the room's pipe to me; answers the origin's end. */
  'pipe.open': {
    request: z.object({ roomId, edge: pipeEndSchema }).strict(),
    response: z.object({ origin: pipeEndSchema }).strict(),
  },
  /** Edge → origin: send this producer through the pipe; what to produce on my end. */
  'pipe.consume': {
    request: ofProducer(),
    response: z
      .object({
        producer: remoteProducerSchema,
        rtpParameters: rtpParametersSchema,
        stamp: stampSchema,
      })
      .strict(),
  },
  /** Edge → origin: nothing goes through the room's pipe to me any more: close it. */
  'pipe.close': { request: ofRoom(), response: ok() },
  /** Edge → origin: nobody here consumes it any more. */
  'pipe.unconsume': { request: ofProducer(), response: ok() },
  /** Origin → edges: announcements about the room's producers, each with its number. */
  'media.producerOpened': {
    request: z.object({ roomId, producer: remoteProducerSchema, stamp: stampSchema }).strict(),
    response: ok(),
  },
  'media.producerClosed': { request: stamped(), response: ok() },
  'media.producerPaused': { request: stamped(), response: ok() },
  'media.producerResumed': { request: stamped(), response: ok() },
  /** Origin → edge: the room's pipe closed under the origin (its router went): pipe again. */
  'pipe.closed': { request: ofRoom(), response: ok() },
} satisfies RpcMethods;

export type MediaMethods = typeof mediaMethods;
