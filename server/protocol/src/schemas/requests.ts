import { z } from 'zod';
import type { DtlsParameters, RtpCapabilities, RtpParameters } from '../mediaParameters.ts';
import type { RequestMap, RequestMethod } from '../requests.ts';
import {
  capacitySchema,
  idempotencyKeySchema,
  idSchema,
  joinTokenSchema,
  mediaSourceSchema,
  nicknameSchema,
  ownerSecretSchema,
  resumeTokenSchema,
  roomNameSchema,
  roomPasswordSchema,
} from './fields.ts';
import { captionRequestSchemas } from './captions.ts';
import { gameRequestSchemas } from './games.ts';
import { moderationRequestSchemas } from './moderation.ts';
import { recordingRequestSchemas } from './recording.ts';
import { e2eeRequestSchemas } from './e2ee.ts';

/**
 * The zod schema of every request's data, validated before any handler runs. Deep media
 * objects (RTP and DTLS parameters) are shape-checked here and fully validated by mediasoup.
 */

const object = <T>() =>
  z.custom<T>(
    (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
    'expected an object',
  );

const empty = () => z.object({}).strict();

/** A certificate fingerprint as SDP writes it; mediasoup compares it in upper case. */
const fingerprintSchema = z
  .object({
    algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']),
    value: z
      .string()
      .regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){15,63}$/i, 'fingerprint: hex bytes separated by colons')
      .overwrite((v) => v.toUpperCase()),
  })
  .strict();

/** room.join's `media.dtlsParameters`: fully checked here (the server connects with it). */
const joinDtlsSchema = z
  .object({ role: z.literal('client'), fingerprints: z.array(fingerprintSchema).min(1).max(4) })
  .strict();

export const requestSchemas = {
  // Lobby
  'lobby.subscribe': empty(),
  'room.create': z
    .object({
      name: roomNameSchema,
      password: roomPasswordSchema.optional(),
      capacity: capacitySchema.optional(),
      e2ee: z.boolean().optional(),
    })
    .strict(),

  // Membership
  'room.join': z
    .object({
      roomId: idSchema,
      nickname: nicknameSchema.optional(),
      password: roomPasswordSchema.optional(),
      token: joinTokenSchema.optional(),
      ownerSecret: ownerSecretSchema.optional(),
      media: z
        .object({
          transports: z.array(z.enum(['send', 'recv'])).max(2),
          rtpCapabilities: object<RtpCapabilities>().optional(),
          forceTcp: z.boolean().optional(),
          dtlsParameters: joinDtlsSchema.optional(),
        })
        .strict()
        .optional(),
    })
    .strict(),
  'room.leave': empty(),
  'session.resume': z.object({ token: resumeTokenSchema }).strict(),
  'session.confirm': empty(),
  'session.ping': empty(),
  'room.delete': z.object({ roomId: idSchema, ownerSecret: ownerSecretSchema }).strict(),
  'room.update': z
    .object({
      roomId: idSchema,
      ownerSecret: ownerSecretSchema,
      name: roomNameSchema.optional(),
      password: roomPasswordSchema.nullable().optional(),
      capacity: capacitySchema.nullable().optional(),
    })
    .strict(),

  // Media
  'media.getRouterRtpCapabilities': empty(),
  'media.createTransport': z
    .object({ direction: z.enum(['send', 'recv']), forceTcp: z.boolean().optional() })
    .strict(),
  'media.connectTransport': z
    .object({ transportId: idSchema, dtlsParameters: object<DtlsParameters>() })
    .strict(),
  'media.restartIce': z.object({ transportId: idSchema }).strict(),
  'media.ready': z.object({ rtpCapabilities: object<RtpCapabilities>() }).strict(),
  'media.produce': z
    .object({
      transportId: idSchema,
      kind: z.enum(['audio', 'video']),
      rtpParameters: object<RtpParameters>(),
      source: mediaSourceSchema,
      paused: z.boolean().optional(),
    })
    .strict(),
  'media.closeProducer': z.object({ producerId: idSchema }).strict(),
  'media.pauseProducer': z.object({ producerId: idSchema }).strict(),
  'media.resumeProducer': z.object({ producerId: idSchema }).strict(),
  'media.pauseConsumer': z.object({ consumerId: idSchema }).strict(),
  'media.resumeConsumer': z.object({ consumerId: idSchema }).strict(),
  'media.setConsumerPreferredLayers': z
    .object({
      consumerId: idSchema,
      spatialLayer: z.number().int().min(0).max(3),
      temporalLayer: z.number().int().min(0).max(3).optional(),
    })
    .strict(),
  'media.getStats': z
    .object({ kind: z.enum(['transport', 'producer', 'consumer']), id: idSchema })
    .strict(),

  // Chat
  'chat.send': z
    .object({
      text: z.string().trim().min(1, 'message must not be empty'),
      to: idSchema.optional(),
      key: idempotencyKeySchema.optional(),
    })
    .strict(),
  'chat.history': z
    .object({
      before: idSchema.optional(),
      limit: z.number().int().min(1).max(500).optional(),
    })
    .strict(),

  // Files
  'files.uploadToken': empty(),

  // Room life: games, reactions, raised hands
  ...gameRequestSchemas,

  // Moderation and the waiting room
  ...moderationRequestSchemas,
  // Live captions
  ...captionRequestSchemas,
  ...recordingRequestSchemas,
  ...e2eeRequestSchemas,
} as const satisfies Record<RequestMethod, z.ZodType>;

// Compile time: each schema takes and produces exactly the RequestMap shape of its method.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Mismatched = {
  [M in RequestMethod]: Same<z.input<(typeof requestSchemas)[M]>, RequestMap[M]> extends true
    ? Same<z.output<(typeof requestSchemas)[M]>, RequestMap[M]> extends true
      ? never
      : M
    : M;
}[RequestMethod];
type _SchemasMatchRequestMap = Expect<[Mismatched] extends [never] ? true : false>;
type Expect<T extends true> = T;
