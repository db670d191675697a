import { Game, Scoreboard, type GameContext } from './engine.ts';
import type { ScoreEntry } from './protocol.ts';

/**
 * A game played in timed rounds on one scoreboard (CatchMind, 초성 quiz): one timer at a time
 * (the round's clock, or the pause after it), and after the last round the leaders win.
 */
export abstract class RoundGame extends Game {
  protected board: Scoreboard;
  #round = 0;
  #cancelTimer: (() => void) | undefined;
  /** When the one timer fires (epoch ms); null when none is set. */
  #timerAt: number | null = null;

  constructor(ctx: GameContext) {
    super(ctx);
    this.board = new Scoreboard(ctx.players);
  }

  /** The round being played (or last played), from 1. */
  protected get round(): number {
    return this.#round;
  }

  /** How many rounds the game has. */
  protected abstract get rounds(): number;

  /** Opens round `this.round` (already counted). */
  protected abstract openRound(): void;

  protected nextRound(): void {
    this.#round += 1;
    this.openRound();
  }

  /** Replaces nothing: the caller has cancelled (or let fire) the previous timer. */
  protected setTimer(ms: number, fire: () => void): void {
    this.#timerAt = this.host.now() + ms;
    this.#cancelTimer = this.host.schedule(ms, fire);
  }

  protected cancelTimers(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#timerAt = null;
  }

  /** What every round game saves: the round, the board and when its timer fires. */
  protected savedRounds(): { round: number; timerAt: number; board: [string, string, number][] } {
    return {
      round: this.#round,
      timerAt: this.#timerAt ?? this.host.now(),
      board: this.board.saved(),
    };
  }

  /** Back to a saved round (before `resume`): the round and the board as they were. */
  protected restoreRounds(saved: {
    round: number;
    timerAt: number;
    board: [string, string, number][];
  }): void {
    this.#round = saved.round;
    this.#timerAt = saved.timerAt;
    this.board = Scoreboard.restore(saved.board);
  }

  /** Re-arms the restored timer at its saved time (at once when that has passed). */
  protected resumeTimer(fire: () => void): void {
    const at = this.#timerAt ?? this.host.now();
    this.setTimer(Math.max(0, at - this.host.now()), fire);
    this.#timerAt = at;
  }

  protected scores(): ScoreEntry[] {
    return this.board.entries();
  }

  /** A round just closed: the last one ends the game, else the next opens after `pauseMs`. */
  protected afterRound(pauseMs: number): void {
    if (this.#round >= this.rounds) {
      this.end('finished', this.board.leaders());
      return;
    }
    this.setTimer(pauseMs, () => this.nextRound());
  }
}
