import { z } from 'zod';
import {
  CANVAS_SIZE,
  GAME_KINDS,
  MAX_STROKE_POINTS,
  REACTION_EMOJI,
  STROKE_COLORS,
  STROKE_WIDTHS,
  type GameRequestMap,
  type GameRequestMethod,
} from '../games.ts';

/** The zod schemas of the room-life requests (games, reactions, raised hands). */

export const gameKindSchema = z.enum(GAME_KINDS);

const coordinate = z.number().int().min(0).max(CANVAS_SIZE);
export const strokeSchema = z
  .object({
    color: z.enum(STROKE_COLORS),
    width: z.literal(STROKE_WIDTHS),
    /** [x, y] pairs in canvas units; one point draws a dot. */
    points: z
      .array(z.tuple([coordinate, coordinate]))
      .min(1)
      .max(MAX_STROKE_POINTS),
  })
  .strict();

export const gameOptionsSchema = z
  .object({
    rounds: z.number().int().min(1).max(20).optional(),
    seconds: z.number().int().min(5).max(300).optional(),
  })
  .strict();

const gameText = z.string().trim().min(1, 'must not be empty').max(32, 'at most 32 characters');
const empty = () => z.object({}).strict();

export const gameRequestSchemas = {
  'game.start': z.object({ kind: gameKindSchema, options: gameOptionsSchema.optional() }).strict(),
  'game.stop': empty(),
  'game.state': empty(),
  'game.word': z.object({ word: gameText }).strict(),
  'game.guess': z.object({ text: gameText }).strict(),
  'game.draw': z.object({ stroke: strokeSchema }).strict(),
  'game.clearCanvas': empty(),

  'reaction.send': z.object({ emoji: z.enum(REACTION_EMOJI) }).strict(),
  'hand.raise': empty(),
  'hand.lower': z.object({ peerId: z.string().min(1).max(64).optional() }).strict(),
} as const satisfies Record<GameRequestMethod, z.ZodType>;

// Compile time: each schema takes and produces exactly the GameRequestMap shape of its method.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Mismatched = {
  [M in GameRequestMethod]: Same<
    z.input<(typeof gameRequestSchemas)[M]>,
    GameRequestMap[M]
  > extends true
    ? Same<z.output<(typeof gameRequestSchemas)[M]>, GameRequestMap[M]> extends true
      ? never
      : M
    : M;
}[GameRequestMethod];
type _SchemasMatchGameRequestMap = Expect<[Mismatched] extends [never] ? true : false>;
type Expect<T extends true> = T;
