import { z } from 'zod';
import { ROLES, type PeerInfo } from '@tutti/protocol';
import { captionLineSchema, gameEventSchema, safeParseInput } from '@tutti/protocol/schemas';
import { nodeIdSchema } from '../cluster/index.ts';
import { deriveKey, seal, unseal } from '../kernel/sealed.ts';
import { recordingStateSchema } from './recordingMethods.ts';

// What nodes tell each other about rooms and their members. Everything on the bus is input
// like any other: parsed with these schemas, and signed (only nodes know the cluster secret).

const id = z.string().min(1).max(128);

export const peerInfoSchema: z.ZodType<PeerInfo> = z.object({
  id,
  nickname: z.string().min(1).max(200),
  mic: z.enum(['on', 'off', 'none']),
  camera: z.enum(['on', 'off', 'none']),
  screen: z.boolean(),
  joinedAt: z.number().int().min(0),
  role: z.enum(ROLES),
});

export const presenceEventSchema = z.discriminatedUnion('type', [
  /** A member was admitted on the sending node (or announced again after a reinstatement). */
  z.object({ type: z.literal('member.joined'), roomId: id, peer: peerInfoSchema }),
  /** Its mic, camera or screen changed (room.peerUpdated). */
  z.object({ type: z.literal('member.updated'), roomId: id, peer: peerInfoSchema }),
  z.object({ type: z.literal('member.left'), roomId: id, peerId: id }),
  /** The room's record was created or changed in the shared store: reload it. */
  z.object({ type: z.literal('room.changed'), roomId: id }),
  /** The room was deleted (its record and history are gone): close it here too. */
  z.object({ type: z.literal('room.deleted'), roomId: id }),
  /** The sending node's recording of the room changed (federation/recordingRelay.ts). */
  z.object({ type: z.literal('recording.state'), roomId: id, state: recordingStateSchema }),
  /** The sending node moved an E2EE room to a new key epoch (federation/e2eeEpochs.ts). */
  z.object({
    type: z.literal('e2ee.epoch'),
    roomId: id,
    epoch: z.number().int().min(0),
    reason: z.enum(['left', 'rotate']),
  }),
  /**
   * Room life (games, reactions, hands) of a room whose life the sending node runs: to every
   * member of the room on the other nodes, or to the one member `to`.
   */
  z.object({
    type: z.literal('life.event'),
    roomId: id,
    to: id.optional(),
    event: gameEventSchema,
  }),
  /** A caption line of a speaker on the sending node. */
  z.object({ type: z.literal('captions.line'), roomId: id, line: captionLineSchema }),
  /** Captions were turned on (by `by`) or off on the sending node: the same here. */
  z.object({
    type: z.literal('captions.switched'),
    roomId: id,
    enabled: z.boolean(),
    by: id.nullable(),
  }),
  /** Its shared moderation state changed (federation/moderationRelay.ts): read it again. */
  z.object({
    type: z.literal('moderation.changed'),
    roomId: id,
    change: z.enum(['settings', 'waiting']),
  }),
]);
export type PresenceEvent = z.infer<typeof presenceEventSchema>;

const bodySchema = z.object({ v: z.literal(1), from: nodeIdSchema, event: presenceEventSchema });
export type PresenceMessage = z.infer<typeof bodySchema>;

/** A key of its own from the cluster secret (files.secret), never usable as another key. */
export function presenceKey(secret: string | Buffer): Buffer {
  return deriveKey(secret, 'presence bus v1');
}

/** Signed on the wire (kernel/sealed.ts): the body's JSON and its HMAC-SHA256. */
export function sealPresence(message: PresenceMessage, key: Buffer): string {
  return seal(message, key);
}

/** The message in a payload, or why it was dropped. */
export function openPresence(payload: string, key: Buffer): PresenceMessage | string {
  const opened = unseal(payload, key);
  if (opened === 'not signed') return 'not a signed presence message';
  if (typeof opened === 'string')
    return opened === 'invalid JSON' ? 'not a presence message' : opened;
  const body = safeParseInput(bodySchema, opened.body);
  return body.success ? body.data : 'not a presence message';
}
