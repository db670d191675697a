import type { GameHost } from './host.ts';
import type { GameEndReason, GameKind, GamePlayer, GameSnapshot, ScoreEntry } from './protocol.ts';
import { refuse, type MoveResult } from './refusal.ts';
import type { SavedGame } from './saved.ts';

/**
 * What the GameManager asks of every game. Moves a game does not have are refused with
 * WRONG_GAME by the base class; every refusal leaves the game exactly as it was.
 */

/**
 * What a chat message meant to the game: `correct` (it solved the round), `withhold` (the
 * drawer typed the word: the chat must not relay it) or `none` (ordinary chat).
 */
export type GuessOutcome = 'none' | 'correct' | 'withhold';

export interface GameContext {
  host: GameHost;
  /** Who started it (they, or a moderator, may stop it). */
  startedBy: string;
  /** Members present at the start, in turn order. */
  players: GamePlayer[];
  /** Called once when the game is over, after `game.ended` went out. */
  onEnd: () => void;
}

export abstract class Game {
  abstract readonly kind: GameKind;
  protected readonly host: GameHost;
  readonly startedBy: string;
  #over = false;
  readonly #onEnd: () => void;

  constructor(ctx: GameContext) {
    this.host = ctx.host;
    this.startedBy = ctx.startedBy;
    this.#onEnd = ctx.onEnd;
  }

  get over(): boolean {
    return this.#over;
  }

  /** Announces the game and opens its first turn or round. */
  abstract start(): void;
  abstract snapshot(forMemberId: string): GameSnapshot;
  /** Someone (re)joined the room. */
  abstract memberJoined(member: GamePlayer): void;
  /** Someone left the room for good. */
  abstract memberLeft(memberId: string): void;
  /** What the shared store keeps of it (saved.ts), so another node can carry it on. */
  abstract save(): SavedGame;
  /** A game restored from what was saved: re-arms its timer at the saved deadline. */
  abstract resume(): void;

  submitWord(_memberId: string, _text: string): MoveResult {
    return refuse('WRONG_GAME', `there are no words to play in ${this.kind}`);
  }
  guess(_memberId: string, _text: string): GuessOutcome {
    return 'none';
  }
  draw(_memberId: string, _stroke: unknown): MoveResult {
    return refuse('WRONG_GAME', `there is no canvas in ${this.kind}`);
  }
  clearCanvas(_memberId: string): MoveResult {
    return refuse('WRONG_GAME', `there is no canvas in ${this.kind}`);
  }

  /** Ends the game now (stopped, room empty); timers are cancelled. */
  stop(reason: GameEndReason): void {
    this.end(reason, []);
  }

  /** Over here, silently: its timers stop and nothing is announced (this node is stopping). */
  halt(): void {
    if (this.#over) return;
    this.#over = true;
    this.cancelTimers();
  }

  /** Cancels the game's timers; called once, when it ends. */
  protected abstract cancelTimers(): void;
  protected abstract scores(): ScoreEntry[];

  protected end(reason: GameEndReason, winners: string[]): void {
    if (this.#over) return;
    this.#over = true;
    this.cancelTimers();
    this.host.broadcast({
      method: 'game.ended',
      data: { kind: this.kind, reason, winners, scores: this.scores() },
    });
    this.#onEnd();
  }
}

/** Points per player, kept for everyone who ever played (leaving keeps one's score). */
export class Scoreboard {
  readonly #entries = new Map<string, ScoreEntry>();

  constructor(players: GamePlayer[] = []) {
    for (const p of players) this.join(p);
  }

  join(player: GamePlayer): void {
    const entry = this.#entries.get(player.id);
    if (entry) entry.nickname = player.nickname;
    else this.#entries.set(player.id, { playerId: player.id, nickname: player.nickname, score: 0 });
  }

  add(playerId: string, points: number): void {
    const entry = this.#entries.get(playerId);
    if (entry) entry.score += points;
  }

  /** Highest first; ties keep join order. Copies, so events never alias live state. */
  entries(): ScoreEntry[] {
    return [...this.#entries.values()].map((e) => ({ ...e })).sort((a, b) => b.score - a.score);
  }

  /** [id, nickname, score] in join order (saved.ts). */
  saved(): [string, string, number][] {
    return [...this.#entries.values()].map((e) => [e.playerId, e.nickname, e.score]);
  }

  static restore(saved: readonly [string, string, number][]): Scoreboard {
    const board = new Scoreboard();
    for (const [playerId, nickname, score] of saved) {
      board.#entries.set(playerId, { playerId, nickname, score });
    }
    return board;
  }

  /** Everyone with the top score, when it is above zero. */
  leaders(): string[] {
    const entries = this.entries();
    const top = entries[0]?.score ?? 0;
    return top > 0 ? entries.filter((e) => e.score === top).map((e) => e.playerId) : [];
  }
}

/** Guesses compare without spaces, composed: " 자동 차" answers 자동차. */
export function normalizeGuess(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, '');
}

/** Options left out (undefined) fall back to the defaults instead of overriding them. */
export function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
