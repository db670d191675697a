/**
 * Room life over the signaling socket: chat games (끝말잇기, 초성 quiz, CatchMind), emoji
 * reactions and the raised-hand queue. Types and constants only (the client bundles them);
 * the zod schemas are `gameRequestSchemas` in `@tutti/protocol/schemas`. The server
 * validates every request with them before any handler runs, and the engines re-check what
 * matters (turns, strokes) because they are the authority.
 */

export const GAME_KINDS = ['wordchain', 'choseong', 'catchmind'] as const;
export type GameKind = (typeof GAME_KINDS)[number];

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
export type StrokeColor = (typeof STROKE_COLORS)[number];
export const STROKE_WIDTHS = [2, 4, 8, 16, 32] as const;
export type StrokeWidth = (typeof STROKE_WIDTHS)[number];
export const MAX_STROKE_POINTS = 256;

/** One CatchMind stroke: integer [x, y] points in 0…CANVAS_SIZE (1–256; one point is a dot). */
export interface Stroke {
  color: StrokeColor;
  width: StrokeWidth;
  points: [number, number][];
}

export interface GameOptions {
  /** Quiz and CatchMind: how many rounds (1–20). */
  rounds?: number;
  /** 끝말잇기: seconds per turn; quiz and CatchMind: seconds per round (5–300). */
  seconds?: number;
}

type NoData = Record<string, never>;

/** Client → server room-life requests (merged into RequestMap). */
export interface GameRequestMap {
  'game.start': { kind: GameKind; options?: GameOptions };
  /** The starter or a moderator ends the game early. */
  'game.stop': NoData;
  /** The current game as this member may see it (after a reconnect). */
  'game.state': NoData;
  /** 끝말잇기: play a word on one's turn (1–32 characters, trimmed). */
  'game.word': { word: string };
  /** Quiz / CatchMind: a guess (chat messages are fed to the game too). */
  'game.guess': { text: string };
  /** CatchMind, drawer only. */
  'game.draw': { stroke: Stroke };
  'game.clearCanvas': NoData;

  'reaction.send': { emoji: ReactionEmoji };
  'hand.raise': NoData;
  /** Lower one's own hand, or (moderators) someone else's. */
  'hand.lower': { peerId?: string };
}

export const GAME_REQUEST_METHODS = [
  'game.start',
  'game.stop',
  'game.state',
  'game.word',
  'game.guess',
  'game.draw',
  'game.clearCanvas',
  'reaction.send',
  'hand.raise',
  'hand.lower',
] as const satisfies readonly (keyof GameRequestMap)[];

export type GameRequestMethod = keyof GameRequestMap;
export type GameRequestData<M extends GameRequestMethod> = GameRequestMap[M];
/** After validation: the same shape (text trimmed). */
export type GameValidRequestData<M extends GameRequestMethod> = GameRequestMap[M];

// Compile time: the list names every method of GameRequestMap.
type UnlistedGameMethod = Exclude<GameRequestMethod, (typeof GAME_REQUEST_METHODS)[number]>;
type _EveryGameMethodListed = ExpectTrue<[UnlistedGameMethod] extends [never] ? true : false>;
type ExpectTrue<T extends true> = T;

const gameMethodSet: ReadonlySet<string> = new Set(GAME_REQUEST_METHODS);

export function isGameRequestMethod(method: string): method is GameRequestMethod {
  return gameMethodSet.has(method);
}

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

/** What the room.join answer gains (JoinResult: `game`, `hands`). */
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
