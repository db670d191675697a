import { z } from 'zod';
import type {
  DtlsParameters,
  IceCandidate,
  IceParameters,
  MediaKind,
  RtpCapabilities,
  RtpParameters,
  SctpParameters,
} from 'mediasoup/types';
import {
  capacitySchema,
  idSchema,
  mediaSourceSchema,
  nicknameSchema,
  roomNameSchema,
  roomPasswordSchema,
  type ChatMessage,
  type MediaSource,
  type PeerInfo,
  type RoomSummary,
} from './common.ts';

/**
 * Client → server protoo requests. Every method has a zod schema for its data (validated
 * before any handler runs) and a typed response. Deep media objects (RTP parameters, DTLS
 * parameters) are shape-checked here and fully validated by mediasoup itself.
 */

const object = <T>() =>
  z.custom<T>(
    (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
    'expected an object',
  );

export const requestSchemas = {
  // Lobby
  'lobby.subscribe': z.object({}).strict(),
  'room.create': z
    .object({
      name: roomNameSchema,
      password: roomPasswordSchema.optional(),
      capacity: capacitySchema.optional(),
    })
    .strict(),

  // Membership
  'room.join': z
    .object({
      roomId: idSchema,
      nickname: nicknameSchema,
      password: roomPasswordSchema.optional(),
    })
    .strict(),
  'room.leave': z.object({}).strict(),
  /** Owner only (owner secret from room.create / POST /api/rooms). */
  'room.delete': z.object({ roomId: idSchema, ownerSecret: z.string().min(1).max(128) }).strict(),
  'room.update': z
    .object({
      roomId: idSchema,
      ownerSecret: z.string().min(1).max(128),
      name: roomNameSchema.optional(),
      /** null removes the password. */
      password: roomPasswordSchema.nullable().optional(),
      capacity: capacitySchema.nullable().optional(),
    })
    .strict(),

  // Media
  'media.getRouterRtpCapabilities': z.object({}).strict(),
  'media.createTransport': z
    .object({ direction: z.enum(['send', 'recv']), forceTcp: z.boolean().optional() })
    .strict(),
  'media.connectTransport': z
    .object({ transportId: idSchema, dtlsParameters: object<DtlsParameters>() })
    .strict(),
  'media.restartIce': z.object({ transportId: idSchema }).strict(),
  /** Announces the device's capabilities; the server then creates consumers for everything. */
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
      /** Peer id of the recipient of a private message. */
      to: idSchema.optional(),
    })
    .strict(),
  'chat.history': z
    .object({
      /** Cursor: return messages older than this message id. */
      before: idSchema.optional(),
      limit: z.number().int().min(1).max(500).optional(),
    })
    .strict(),

  // Files
  'files.uploadToken': z.object({}).strict(),
} as const;

export type RequestMethod = keyof typeof requestSchemas;
export type RequestData<M extends RequestMethod> = z.input<(typeof requestSchemas)[M]>;
/** Request data after validation/normalisation (trimmed strings, defaults). */
export type ValidRequestData<M extends RequestMethod> = z.output<(typeof requestSchemas)[M]>;

export interface TransportOptions {
  id: string;
  iceParameters: IceParameters;
  iceCandidates: IceCandidate[];
  dtlsParameters: DtlsParameters;
  sctpParameters?: SctpParameters;
}

export interface JoinResult {
  self: PeerInfo;
  peers: PeerInfo[];
  room: RoomSummary;
  routerRtpCapabilities: RtpCapabilities;
  /** Latest chat messages visible to this peer, oldest first. */
  history: ChatMessage[];
}

export interface ResponseMap {
  'lobby.subscribe': { rooms: RoomSummary[] };
  'room.create': { room: RoomSummary; ownerSecret: string };
  'room.join': JoinResult;
  'room.leave': Record<string, never>;
  'room.delete': Record<string, never>;
  'room.update': { room: RoomSummary };
  'media.getRouterRtpCapabilities': { rtpCapabilities: RtpCapabilities };
  'media.createTransport': TransportOptions;
  'media.connectTransport': Record<string, never>;
  'media.restartIce': { iceParameters: IceParameters };
  'media.ready': Record<string, never>;
  'media.produce': { producerId: string };
  'media.closeProducer': Record<string, never>;
  'media.pauseProducer': Record<string, never>;
  'media.resumeProducer': Record<string, never>;
  'media.pauseConsumer': Record<string, never>;
  'media.resumeConsumer': Record<string, never>;
  'media.setConsumerPreferredLayers': Record<string, never>;
  'media.getStats': { stats: unknown[] };
  'chat.send': { message: ChatMessage };
  'chat.history': { messages: ChatMessage[]; hasMore: boolean };
  'files.uploadToken': { token: string; uploadUrl: string; expiresAt: number };
}

/** Server → client protoo *requests* (the client must answer before the server proceeds). */
export interface ServerRequestMap {
  /** Create the consumer locally, then answer; the server resumes it once answered. */
  'media.newConsumer': {
    request: {
      id: string;
      producerId: string;
      peerId: string;
      kind: MediaKind;
      source: MediaSource;
      rtpParameters: RtpParameters;
      type: 'simple' | 'simulcast' | 'svc' | 'pipe';
      producerPaused: boolean;
    };
    response: Record<string, never>;
  };
}
export type ServerRequestMethod = keyof ServerRequestMap;

export function isRequestMethod(method: string): method is RequestMethod {
  return Object.hasOwn(requestSchemas, method);
}
