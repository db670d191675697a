import { CatchMindGame } from './catchMind.ts';
import { CATCH_MIND_WORDS } from './catchMindWords.ts';
import { ChoseongQuizGame } from './choseongQuiz.ts';
import { loadKoreanDictionary, type WordList } from './dictionary.ts';
import type { Game, GameContext, GuessOutcome } from './engine.ts';
import type { GameHost } from './host.ts';
import type { GameKind, GameOptions, GamePlayer, GameSnapshot, Stroke } from './protocol.ts';
import { accepted, refuse, type MoveResult } from './refusal.ts';
import type { SavedGame } from './saved.ts';
import { WordChainGame } from './wordChain.ts';

/**
 * One per room: at most one game at a time, started by anyone in the room. The room tells it
 * who is there (`memberJoined` on every join and rejoin, `memberLeft` when someone has left
 * for good) by a stable member id, so a game survives a reconnect: the returning member gets a
 * `game.snapshot` and keeps their seat. When the last member leaves, the game is dropped.
 */

export interface GameManagerOptions {
  host: GameHost;
  /** The nouns of 끝말잇기 and the quiz; loaded on the first game that needs them. */
  loadWords?: () => Promise<WordList>;
  catchMindWords?: readonly string[];
  random?: () => number;
  /** Pause between quiz / CatchMind rounds. */
  intermissionMs?: number;
}

const MIN_PLAYERS: Record<GameKind, number> = { wordchain: 2, choseong: 1, catchmind: 2 };

export class GameManager {
  readonly #host: GameHost;
  readonly #loadWords: () => Promise<WordList>;
  readonly #catchMindWords: readonly string[];
  readonly #random: () => number;
  readonly #intermissionMs: number | undefined;
  readonly #members = new Map<string, GamePlayer>();
  #game: Game | undefined;
  #starting = false;
  /** Bumped when the room empties, so a start still loading the dictionary gives up. */
  #generation = 0;

  constructor(opts: GameManagerOptions) {
    this.#host = opts.host;
    this.#loadWords = opts.loadWords ?? loadKoreanDictionary;
    this.#catchMindWords = opts.catchMindWords ?? CATCH_MIND_WORDS;
    this.#random = opts.random ?? Math.random;
    this.#intermissionMs = opts.intermissionMs;
  }

  /** The running game's kind, if any. */
  get kind(): GameKind | undefined {
    return this.#game?.kind;
  }

  memberJoined(member: GamePlayer): void {
    this.#members.set(member.id, { id: member.id, nickname: member.nickname });
    const game = this.#game;
    if (!game) return;
    game.memberJoined(member);
    if (!game.over)
      this.#host.send(member.id, {
        method: 'game.snapshot',
        data: { game: game.snapshot(member.id) },
      });
  }

  memberLeft(memberId: string): void {
    if (!this.#members.delete(memberId)) return;
    if (this.#members.size === 0) this.roomEmptied();
    else this.#game?.memberLeft(memberId);
  }

  /** Ends any game and forgets everything (the room emptied or closed). */
  roomEmptied(): void {
    this.#generation++;
    this.#starting = false;
    const game = this.#game;
    this.#game = undefined;
    this.#members.clear();
    game?.stop('room-empty');
  }

  /** This node stops running the room (another carries it on): timers stop, nothing is said. */
  suspend(): void {
    this.#generation++;
    this.#starting = false;
    const game = this.#game;
    this.#game = undefined;
    game?.halt();
  }

  async start(memberId: string, kind: GameKind, options: GameOptions = {}): Promise<MoveResult> {
    const check = this.#canStart(memberId, kind);
    if (check) return check;
    this.#starting = true;
    const generation = this.#generation;
    let words: WordList | undefined;
    try {
      if (kind !== 'catchmind') words = await this.#loadWords();
    } finally {
      if (generation === this.#generation) this.#starting = false;
    }
    if (generation !== this.#generation) return refuse('NO_GAME', 'the room emptied');
    // Members may have come and gone while the dictionary loaded.
    const again = this.#canStart(memberId, kind);
    if (again) return again;

    const ctx = this.#context(memberId, this.#turnOrder(memberId), () => game);
    const seconds = options.seconds === undefined ? undefined : options.seconds * 1000;
    const common = {
      random: this.#random,
      rounds: options.rounds,
      roundMs: seconds,
      intermissionMs: this.#intermissionMs,
    };
    const game: Game =
      kind === 'wordchain'
        ? new WordChainGame(ctx, { words: words!, turnMs: seconds })
        : kind === 'choseong'
          ? new ChoseongQuizGame(ctx, { ...common, words: words! })
          : new CatchMindGame(ctx, { ...common, wordList: this.#catchMindWords });
    this.#game = game;
    game.start();
    return accepted;
  }

  /** The members and the running game, as the shared store keeps them (saved.ts). */
  saved(): { members: [string, string][]; game: SavedGame | null } {
    const game = this.#game;
    return {
      members: [...this.#members.values()].map((m) => [m.id, m.nickname]),
      game: game && !game.over ? game.save() : null,
    };
  }

  /** The running CatchMind's canvas (the saver keeps its strokes apart). */
  canvas(): { id: number; strokes: readonly Stroke[] } | null {
    const game = this.#game;
    return game instanceof CatchMindGame && !game.over ? game.canvas() : null;
  }

  /**
   * Carries on a game another node saved (it died), with its members; its timer is re-armed
   * at the saved deadline. False when the room emptied meanwhile (nothing restored).
   */
  async restore(
    members: readonly [string, string][],
    saved: SavedGame | null,
    strokes: Stroke[],
  ): Promise<boolean> {
    for (const [id, nickname] of members) this.#members.set(id, { id, nickname });
    if (!saved) return false;
    const generation = this.#generation;
    const words = saved.kind === 'catchmind' ? undefined : await this.#loadWords();
    if (generation !== this.#generation || this.#game) return false;
    const ctx = this.#context(saved.startedBy, [], () => game);
    const random = this.#random;
    const game: Game =
      saved.kind === 'wordchain'
        ? WordChainGame.restore(ctx, words!, saved)
        : saved.kind === 'choseong'
          ? ChoseongQuizGame.restore(ctx, words!, random, saved)
          : CatchMindGame.restore(ctx, { wordList: this.#catchMindWords, random }, saved, strokes);
    this.#game = game;
    game.resume();
    return true;
  }

  #context(startedBy: string, players: GamePlayer[], game: () => Game): GameContext {
    return {
      host: this.#host,
      startedBy,
      players,
      onEnd: () => {
        if (this.#game === game()) this.#game = undefined;
      },
    };
  }

  /** The starter, or a moderator (the caller knows who is one), ends the game early. */
  stop(memberId: string, opts: { moderator?: boolean } = {}): MoveResult {
    const game = this.#game;
    if (!game) return refuse('NO_GAME', 'no game is running');
    if (memberId !== game.startedBy && !opts.moderator)
      return refuse('NOT_ALLOWED', 'only who started the game, or a moderator, can stop it');
    game.stop('stopped');
    return accepted;
  }

  /** 끝말잇기: a word on one's turn. */
  word(memberId: string, text: string): MoveResult {
    return this.#move(memberId, (game) => game.submitWord(memberId, text));
  }

  /**
   * A chat message or `game.guess`. The chat calls this before relaying a message and does
   * not relay it on `withhold` (the drawer typing their word).
   */
  guess(memberId: string, text: string): GuessOutcome {
    if (!this.#members.has(memberId)) return 'none';
    return this.#game?.guess(memberId, text) ?? 'none';
  }

  draw(memberId: string, stroke: unknown): MoveResult {
    return this.#move(memberId, (game) => game.draw(memberId, stroke));
  }

  clearCanvas(memberId: string): MoveResult {
    return this.#move(memberId, (game) => game.clearCanvas(memberId));
  }

  /** The game as this member may see it (the join answer, `game.state`); null when none. */
  snapshot(memberId: string): GameSnapshot | null {
    return this.#game?.snapshot(memberId) ?? null;
  }

  #move(memberId: string, play: (game: Game) => MoveResult): MoveResult {
    if (!this.#members.has(memberId)) return refuse('NOT_A_PLAYER', 'join the room first');
    const game = this.#game;
    return game ? play(game) : refuse('NO_GAME', 'no game is running');
  }

  #canStart(memberId: string, kind: GameKind): MoveResult | undefined {
    if (!this.#members.has(memberId)) return refuse('NOT_A_PLAYER', 'join the room first');
    if (this.#game || this.#starting) return refuse('GAME_RUNNING', 'a game is already running');
    const need = MIN_PLAYERS[kind];
    if (this.#members.size < need)
      return refuse('NOT_ENOUGH_PLAYERS', `${kind} needs at least ${need} players`);
    return undefined;
  }

  /** The starter first, then everyone else in the order they joined. */
  #turnOrder(starterId: string): GamePlayer[] {
    const all = [...this.#members.values()].map((m) => ({ ...m }));
    return [...all.filter((m) => m.id === starterId), ...all.filter((m) => m.id !== starterId)];
  }
}
