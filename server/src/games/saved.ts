import { z } from 'zod';
import { strokeSchema, type Stroke } from './protocol.ts';
import { safeParseInput } from '@tutti/protocol/schemas';

/**
 * A room's life as its authority keeps it in the shared store (federation/lifeClaims.ts) on
 * every change, so that the node taking the room over when the authority dies carries on:
 * the running game (round, scores, the secret word, the deadline its timer fires at), its
 * members and the hand queue. Compact (tuples, not objects) and read back like any other
 * input: what does not parse, or does not hold together, is dropped.
 */

const id = z.string().min(1).max(128);
const nickname = z.string().min(1).max(200);
const time = z.number().int().min(0);
const ms = z.number().int().min(1).max(3_600_000);
const word = z.string().min(1).max(64);
const count = z.number().int().min(0).max(100_000);
/** [id, nickname] */
const player = z.tuple([id, nickname]);
/** [id, nickname, score], in the order they joined the board. */
const board = z.array(z.tuple([id, nickname, z.number().int()])).max(1000);
const words = z.array(word).max(10_000);

const wordChain = z
  .object({
    kind: z.literal('wordchain'),
    startedBy: id,
    turnMs: ms,
    /** [id, nickname, out, words played] in turn order. */
    players: z
      .array(z.tuple([id, nickname, z.boolean(), count]))
      .min(1)
      .max(1000),
    /** [playerId, word], in play order. */
    played: z.array(z.tuple([id, word])).max(10_000),
    turn: z.number().int().min(0),
    deadline: time,
  })
  .refine(
    (g) => g.players[g.turn] !== undefined && !g.players[g.turn]![2],
    'turn: not a player in',
  );

/** What a round game (rounds.ts) keeps: the round and when its one timer fires. */
const rounds = {
  startedBy: id,
  round: z.number().int().min(1).max(20),
  rounds: z.number().int().min(1).max(20),
  roundMs: ms,
  intermissionMs: z.number().int().min(0).max(3_600_000),
  /** The round's deadline while it runs (answer/word set), else the pause's end. */
  timerAt: time,
  asked: words,
  board,
};

const choseong = z.object({
  kind: z.literal('choseong'),
  ...rounds,
  minSyllables: z.number().int().min(1).max(10),
  maxSyllables: z.number().int().min(1).max(10),
  /** The unsolved answer; null between rounds. */
  answer: word.nullable(),
});

const catchMind = z
  .object({
    kind: z.literal('catchmind'),
    ...rounds,
    rotation: z.array(player).min(1).max(1000),
    nextDrawer: z.number().int().min(0),
    /** The drawer and their word while a round runs; null between rounds. */
    drawer: player.nullable(),
    word: word.nullable(),
  })
  .refine((g) => (g.word === null) === (g.drawer === null), 'word and drawer go together')
  .refine((g) => g.nextDrawer <= g.rotation.length, 'nextDrawer: out of the rotation');

export const savedGameSchema = z.discriminatedUnion('kind', [wordChain, choseong, catchMind]);
export type SavedGame = z.infer<typeof savedGameSchema>;
export type SavedWordChain = Extract<SavedGame, { kind: 'wordchain' }>;
export type SavedChoseong = Extract<SavedGame, { kind: 'choseong' }>;
export type SavedCatchMind = Extract<SavedGame, { kind: 'catchmind' }>;

export const savedLifeSchema = z.object({
  v: z.literal(1),
  /** The members the life had been told of. */
  members: z.array(player).max(10_000),
  /** [peerId, raisedAt], oldest first. */
  hands: z.array(z.tuple([id, time])).max(10_000),
  game: savedGameSchema.nullable(),
});
export type SavedLife = z.infer<typeof savedLifeSchema>;

/** A CatchMind round's strokes, kept apart (appended one by one, not rewritten each time). */
export const savedStrokeSchema = strokeSchema;

/** What the authority writes: the life's JSON, and the canvas as a log it appends to. */
export interface LifeWrite {
  /** The life's JSON; '' when unchanged since the last write. */
  state: string;
  /** Empty the stroke log first (a new round, a cleared canvas, no canvas any more). */
  resetStrokes: boolean;
  /** Strokes (JSON) to append. */
  strokes: string[];
}

/** What the store holds for a room, as written. */
export interface LifeRecord {
  state: string;
  strokes: string[];
}

/** The life read back, checked; or why it is dropped. */
export function parseLifeRecord(
  record: LifeRecord,
): { life: SavedLife; strokes: Stroke[] } | { dropped: string } {
  const life = safeParseInput(savedLifeSchema, parseJson(record.state));
  if (!life.success) return { dropped: `state: ${life.error.issues[0]?.message ?? 'invalid'}` };
  const strokes: Stroke[] = [];
  if (life.data.game?.kind === 'catchmind' && life.data.game.word !== null) {
    for (const raw of record.strokes.slice(0, 10_000)) {
      const stroke = safeParseInput(savedStrokeSchema, parseJson(raw));
      if (!stroke.success) return { dropped: 'a stroke does not parse' };
      strokes.push(stroke.data);
    }
  }
  return { life: life.data, strokes };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
