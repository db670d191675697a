import { z } from 'zod';
import { CAPTION_ENGINES, type CaptionLine, type CaptionsState } from '../captions.ts';
import {
  REACTION_EMOJI,
  type GameEvent,
  type GameNotificationMap,
  type GameNotificationMethod,
  type GameSnapshot,
  type HandQueueState,
} from '../games.ts';
import { gameKindSchema, strokeSchema } from './games.ts';

/**
 * The zod schemas of the room-life and caption notifications. Clients never send these; the
 * server validates them where they arrive from another node of a cluster (the signed bus,
 * node-to-node answers), so a node never relays a shape its members could not handle.
 */

const id = z.string().min(1).max(128);
const nickname = z.string().min(1).max(200);
const time = z.number().int().min(0);
const text = z.string().max(4000);
const count = z.number().int().min(0).max(10_000);
const player = z.object({ id, nickname });
const score = z.object({ playerId: id, nickname, score: z.number().int() });
const scores = z.array(score).max(1000);
const strokes = z.array(strokeSchema).max(10_000);

export const gameSnapshotSchema: z.ZodType<GameSnapshot> = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('wordchain'),
    startedBy: id,
    players: z.array(player.extend({ out: z.boolean() })).max(1000),
    turn: z
      .object({ playerId: id, startsWith: z.array(text).max(8).nullable(), deadline: time })
      .nullable(),
    words: z.array(z.object({ playerId: id, word: text })).max(10_000),
  }),
  z.object({
    kind: z.literal('choseong'),
    startedBy: id,
    round: count,
    rounds: count,
    initials: text.nullable(),
    deadline: time.nullable(),
    scores,
  }),
  z.object({
    kind: z.literal('catchmind'),
    startedBy: id,
    round: count,
    rounds: count,
    drawerId: id.nullable(),
    word: text.optional(),
    wordLength: count.nullable(),
    deadline: time.nullable(),
    strokes,
    scores,
  }),
]);

export const handQueueStateSchema: z.ZodType<HandQueueState> = z.object({
  queue: z.array(z.object({ peerId: id, raisedAt: time })).max(10_000),
});

const gameNotificationSchemas = {
  'game.started': z.object({ game: gameSnapshotSchema }),
  'game.ended': z.object({
    kind: gameKindSchema,
    reason: z.enum(['finished', 'stopped', 'not-enough-players', 'room-empty']),
    winners: z.array(id).max(1000),
    scores,
  }),
  'game.snapshot': z.object({ game: gameSnapshotSchema }),
  'game.wordchain.turn': z.object({
    playerId: id,
    startsWith: z.array(text).max(8).nullable(),
    deadline: time,
  }),
  'game.wordchain.word': z.object({ playerId: id, word: text }),
  'game.wordchain.out': z.object({ playerId: id, reason: z.enum(['timeout', 'left']) }),
  'game.choseong.round': z.object({ round: count, rounds: count, initials: text, deadline: time }),
  'game.choseong.solved': z.object({ round: count, playerId: id, answer: text, scores }),
  'game.choseong.timeout': z.object({ round: count, answer: text }),
  'game.catchmind.round': z.object({
    round: count,
    rounds: count,
    drawerId: id,
    wordLength: count,
    deadline: time,
  }),
  'game.catchmind.word': z.object({ round: count, word: text }),
  'game.catchmind.stroke': z.object({ drawerId: id, stroke: strokeSchema }),
  'game.catchmind.cleared': z.object({ drawerId: id }),
  'game.catchmind.solved': z.object({ round: count, playerId: id, word: text, scores }),
  'game.catchmind.revealed': z.object({
    round: count,
    word: text,
    reason: z.enum(['timeout', 'drawer-left']),
  }),
  'reaction.sent': z.object({
    peerId: id,
    emoji: z.enum(REACTION_EMOJI),
    at: time,
  }),
  'hand.queue': handQueueStateSchema,
} satisfies { [M in GameNotificationMethod]: z.ZodType<GameNotificationMap[M]> };

/** One room-life notification, method and data together (GameEvent). */
export const gameEventSchema = z.union(
  Object.entries(gameNotificationSchemas).map(([method, data]) =>
    z.object({ method: z.literal(method), data }),
  ) as unknown as [z.ZodType<GameEvent>, ...z.ZodType<GameEvent>[]],
) as unknown as z.ZodType<GameEvent>;

export const captionLineSchema: z.ZodType<CaptionLine> = z.object({
  peerId: id,
  id: z.string().min(1).max(256),
  text,
  final: z.boolean(),
  at: time,
});

export const captionsStateSchema: z.ZodType<CaptionsState> = z.object({
  enabled: z.boolean(),
  enabledBy: id.nullable(),
  engine: z.enum(CAPTION_ENGINES).nullable(),
  language: z.string().max(64).nullable(),
  gaps: z.array(z.object({ peerId: id, reason: z.enum(['limit', 'failed']) })).max(10_000),
});
