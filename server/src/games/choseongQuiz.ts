import type { WordList } from './dictionary.ts';
import { normalizeGuess, stripUndefined, type GameContext, type GuessOutcome } from './engine.ts';
import { RoundGame } from './rounds.ts';
import { initialsOf } from './hangul.ts';
import type { GamePlayer, GameSnapshot } from './protocol.ts';
import type { SavedChoseong } from './saved.ts';

/**
 * 초성 quiz. Each round the server picks a noun and shows only its initials (자동차 → ㅈㄷㅊ);
 * the first chat message (or guess) equal to the word scores a point. The word lives only
 * here until the round is solved or its time runs out: no event or snapshot carries it before.
 */

export const QUIZ_DEFAULTS = { rounds: 5, roundMs: 60_000, intermissionMs: 3_000 };

export interface QuizOptions {
  words: WordList;
  random: () => number;
  rounds?: number;
  roundMs?: number;
  intermissionMs?: number;
  /** Syllables of the picked words (3–4 by default: 2-syllable initials fit too many words). */
  minSyllables?: number;
  maxSyllables?: number;
}

export class ChoseongQuizGame extends RoundGame {
  readonly kind = 'choseong' as const;
  readonly #opts: Required<QuizOptions>;
  readonly #asked = new Set<string>();
  /** The unsolved answer; undefined between rounds. */
  #answer: string | undefined;
  #initials: string | null = null;
  #deadline: number | null = null;

  constructor(ctx: GameContext, opts: QuizOptions) {
    super(ctx);
    this.#opts = {
      rounds: QUIZ_DEFAULTS.rounds,
      roundMs: QUIZ_DEFAULTS.roundMs,
      intermissionMs: QUIZ_DEFAULTS.intermissionMs,
      minSyllables: 3,
      maxSyllables: 4,
      ...stripUndefined(opts),
      words: opts.words,
      random: opts.random,
    };
  }

  start(): void {
    this.host.broadcast({ method: 'game.started', data: { game: this.snapshot() } });
    this.nextRound();
  }

  override guess(memberId: string, text: string): GuessOutcome {
    if (this.over || this.#answer === undefined) return 'none';
    if (normalizeGuess(text) !== this.#answer) return 'none';
    const answer = this.#answer;
    this.#closeRound();
    this.board.add(memberId, 1);
    this.host.broadcast({
      method: 'game.choseong.solved',
      data: { round: this.round, playerId: memberId, answer, scores: this.board.entries() },
    });
    this.afterRound(this.#opts.intermissionMs);
    return 'correct';
  }

  memberJoined(member: GamePlayer): void {
    this.board.join(member);
  }

  memberLeft(_memberId: string): void {
    // Anyone in the room may answer; a leaver keeps their points on the board.
  }

  snapshot(): GameSnapshot {
    return {
      kind: 'choseong',
      startedBy: this.startedBy,
      round: this.round,
      rounds: this.#opts.rounds,
      initials: this.#initials,
      deadline: this.#deadline,
      scores: this.board.entries(),
    };
  }

  save(): SavedChoseong {
    const { rounds, roundMs, intermissionMs, minSyllables, maxSyllables } = this.#opts;
    return {
      kind: 'choseong',
      startedBy: this.startedBy,
      ...this.savedRounds(),
      rounds,
      roundMs,
      intermissionMs,
      minSyllables,
      maxSyllables,
      asked: [...this.#asked],
      answer: this.#answer ?? null,
    };
  }

  /** The quiz as another node saved it; `resume` re-arms its timer. */
  static restore(ctx: GameContext, words: WordList, random: () => number, saved: SavedChoseong) {
    const { rounds, roundMs, intermissionMs, minSyllables, maxSyllables } = saved;
    const game = new ChoseongQuizGame(
      { ...ctx, players: [] },
      { words, random, rounds, roundMs, intermissionMs, minSyllables, maxSyllables },
    );
    game.restoreRounds(saved);
    for (const w of saved.asked) game.#asked.add(w);
    if (saved.answer !== null) {
      game.#answer = saved.answer;
      game.#initials = initialsOf(saved.answer);
      game.#deadline = saved.timerAt;
    }
    return game;
  }

  resume(): void {
    this.resumeTimer(() => (this.#answer !== undefined ? this.#timeUp() : this.nextRound()));
  }

  protected get rounds(): number {
    return this.#opts.rounds;
  }

  protected openRound(): void {
    const answer = this.#opts.words.pick({
      min: this.#opts.minSyllables,
      max: this.#opts.maxSyllables,
      random: this.#opts.random,
      exclude: this.#asked,
    });
    this.#asked.add(answer);
    this.#answer = answer;
    this.#initials = initialsOf(answer);
    this.#deadline = this.host.now() + this.#opts.roundMs;
    this.setTimer(this.#opts.roundMs, () => this.#timeUp());
    this.host.broadcast({
      method: 'game.choseong.round',
      data: {
        round: this.round,
        rounds: this.#opts.rounds,
        initials: this.#initials,
        deadline: this.#deadline,
      },
    });
  }

  #timeUp(): void {
    const answer = this.#answer!;
    this.#closeRound();
    this.host.broadcast({ method: 'game.choseong.timeout', data: { round: this.round, answer } });
    this.afterRound(this.#opts.intermissionMs);
  }

  #closeRound(): void {
    this.cancelTimers();
    this.#answer = undefined;
    this.#initials = null;
    this.#deadline = null;
  }
}
