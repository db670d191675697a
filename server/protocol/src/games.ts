import { z } from 'zod';

/**
 * Room life over the signaling socket: chat games (끝말잇기, 초성 quiz, CatchMind), emoji
 * reactions and the raised-hand queue. Requests are validated with these schemas before any
 * handler runs; the engines re-check what matters (turns, strokes) because they are the
 * authority. Not yet exported from the package index (the lead wires it).
 */

export const GAME_KINDS = ['wordchain', 'choseong', 'catchmind'] as const;
export type GameKind = (typeof GAME_KINDS)[number];
export const gameKindSchema = z.enum(GAME_KINDS);

/** Emoji a reaction may carry; anything else is refused. */
export const REACTION_EMOJI = ['👍', '👏', '😂', '😮', '❤️', '🎉', '🤔', '👋'] as const;
export type ReactionEmoji = (typeof REACTION_EMOJI)[number];

/** CatchMind canvas: a virtual square of CANVAS_SIZE units each way, whatever the screen. */
export const CANVAS_SIZE = 1000;
export const STROKE_COLORS = [
  '#000000',
  '#ffffff',
  '#e53935',
  '#fb8c00',
  '#fdd835',
  '#43a047',
  '#1e88e5',
  '#8e24aa',
  '#6d4c41',
] as const;
export const STROKE_WIDTHS = [2, 4, 8, 16, 32] as const;
export const MAX_STROKE_POINTS = 256;

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
export type Stroke = z.output<typeof strokeSchema>;

export const gameOptionsSchema = z
  .object({
    /** Quiz and CatchMind: how many rounds. */
    rounds: z.number().int().min(1).max(20).optional(),
    /** 끝말잇기: seconds per turn; quiz and CatchMind: seconds per round. */
    seconds: z.number().int().min(5).max(300).optional(),
  })
  .strict();
export type GameOptions = z.output<typeof gameOptionsSchema>;

const gameText = z.string().trim().min(1, 'must not be empty').max(32, 'at most 32 characters');

export const gameRequestSchemas = {
  'game.start': z.object({ kind: gameKindSchema, options: gameOptionsSchema.optional() }).strict(),
  /** The starter or a moderator ends the game early. */
  'game.stop': z.object({}).strict(),
  /** The current game as this member may see it (after a reconnect). */
  'game.state': z.object({}).strict(),
  /** 끝말잇기: play a word on one's turn. */
  'game.word': z.object({ word: gameText }).strict(),
  /** Quiz / CatchMind: a guess (chat messages are fed to the game too). */
  'game.guess': z.object({ text: gameText }).strict(),
  /** CatchMind, drawer only. */
  'game.draw': z.object({ stroke: strokeSchema }).strict(),
  'game.clearCanvas': z.object({}).strict(),

  'reaction.send': z.object({ emoji: z.enum(REACTION_EMOJI) }).strict(),
  'hand.raise': z.object({}).strict(),
  /** Lower one's own hand, or (moderators) someone else's. */
  'hand.lower': z.object({ peerId: z.string().min(1).max(64).optional() }).strict(),
} as const;

export type GameRequestMethod = keyof typeof gameRequestSchemas;
export type GameRequestData<M extends GameRequestMethod> = z.input<(typeof gameRequestSchemas)[M]>;

export function isGameRequestMethod(method: string): method is GameRequestMethod {
  return Object.hasOwn(gameRequestSchemas, method);
}

export type GameValidRequestData<M extends GameRequestMethod> = z.output<
  (typeof gameRequestSchemas)[M]
>;

export interface HandQueueState {
  /** Oldest first. */
  queue: { peerId: string; raisedAt: number }[];
}

export interface GameResponseMap {
  'game.start': { game: GameSnapshot };
  'game.stop': Record<string, never>;
  'game.state': { game: GameSnapshot | null };
  'game.word': Record<string, never>;
  /** Whether the guess solved the round. */
  'game.guess': { correct: boolean };
  'game.draw': Record<string, never>;
  'game.clearCanvas': Record<string, never>;
  'reaction.send': Record<string, never>;
  'hand.raise': HandQueueState;
  'hand.lower': HandQueueState;
}

/** What the room.join answer gains (the lead adds it to JoinExtras / JoinResult). */
export interface RoomLifeJoinExtras {
  game: GameSnapshot | null;
  hands: HandQueueState;
}

/** Why a move was refused; the message is what the player reads. */
export type GameRefusalCode =
  | 'NO_GAME'
  | 'GAME_RUNNING'
  | 'NOT_ENOUGH_PLAYERS'
  | 'NOT_A_PLAYER'
  | 'NOT_YOUR_TURN'
  | 'NOT_IN_DICTIONARY'
  | 'ALREADY_USED'
  | 'WRONG_START'
  | 'WRONG_GAME'
  | 'NOT_DRAWER'
  | 'INVALID_STROKE'
  | 'CANVAS_FULL'
  | 'RATE_LIMITED'
  | 'NOT_ALLOWED'
  | 'BETWEEN_ROUNDS'
  | 'NOT_RAISED';

export interface GameRefusal {
  code: GameRefusalCode;
  message: string;
}

export interface ScoreEntry {
  playerId: string;
  nickname: string;
  score: number;
}

export interface GamePlayer {
  id: string;
  nickname: string;
}

/** What anyone in the room may see of a game. Never holds an unsolved answer. */
export type GameSnapshot =
  | {
      kind: 'wordchain';
      startedBy: string;
      players: (GamePlayer & { out: boolean })[];
      turn: { playerId: string; startsWith: string[] | null; deadline: number } | null;
      words: { playerId: string; word: string }[];
    }
  | {
      kind: 'choseong';
      startedBy: string;
      round: number;
      rounds: number;
      initials: string | null;
      deadline: number | null;
      scores: ScoreEntry[];
    }
  | {
      kind: 'catchmind';
      startedBy: string;
      round: number;
      rounds: number;
      drawerId: string | null;
      /** Only in the drawer's own snapshot. */
      word?: string;
      wordLength: number | null;
      deadline: number | null;
      strokes: Stroke[];
      scores: ScoreEntry[];
    };

export type GameEndReason = 'finished' | 'stopped' | 'not-enough-players' | 'room-empty';

/** Server → client notifications of room life. */
export interface GameNotificationMap {
  'game.started': { game: GameSnapshot };
  'game.ended': {
    kind: GameKind;
    reason: GameEndReason;
    winners: string[];
    scores: ScoreEntry[];
  };
  /** Sent to one member (after a reconnect, or to the drawer when a round starts). */
  'game.snapshot': { game: GameSnapshot };

  'game.wordchain.turn': { playerId: string; startsWith: string[] | null; deadline: number };
  'game.wordchain.word': { playerId: string; word: string };
  'game.wordchain.out': { playerId: string; reason: 'timeout' | 'left' };

  'game.choseong.round': { round: number; rounds: number; initials: string; deadline: number };
  'game.choseong.solved': { round: number; playerId: string; answer: string; scores: ScoreEntry[] };
  'game.choseong.timeout': { round: number; answer: string };

  'game.catchmind.round': {
    round: number;
    rounds: number;
    drawerId: string;
    wordLength: number;
    deadline: number;
  };
  /** To the drawer alone. */
  'game.catchmind.word': { round: number; word: string };
  'game.catchmind.stroke': { drawerId: string; stroke: Stroke };
  'game.catchmind.cleared': { drawerId: string };
  'game.catchmind.solved': { round: number; playerId: string; word: string; scores: ScoreEntry[] };
  /** The round ended unsolved: its time ran out or its drawer left. */
  'game.catchmind.revealed': { round: number; word: string; reason: 'timeout' | 'drawer-left' };

  'reaction.sent': { peerId: string; emoji: ReactionEmoji; at: number };
  'hand.queue': HandQueueState;
}

export type GameNotificationMethod = keyof GameNotificationMap;
/** One notification, method and data together (what the GameHost port carries). */
export type GameEvent = {
  [M in GameNotificationMethod]: { method: M; data: GameNotificationMap[M] };
}[GameNotificationMethod];
