import { TokenBucket } from '../kernel/rateLimit.ts';
import { normalizeGuess, stripUndefined, type GameContext, type GuessOutcome } from './engine.ts';
import { RoundGame } from './rounds.ts';
import { syllableCount } from './hangul.ts';
import { strokeSchema, type GamePlayer, type GameSnapshot, type Stroke } from './protocol.ts';
import { accepted, refuse, type MoveResult } from './refusal.ts';
import type { SavedCatchMind } from './saved.ts';
import { safeParseInput } from '@tutti/protocol/schemas';

/** Tells canvases apart across games and rounds (the saver appends to the one it wrote). */
let canvases = 0;

/**
 * CatchMind. Each round one player (in turn) draws a word only they are told; the others
 * guess in the chat. The first exact guess scores a point for the guesser and one for the
 * drawer. Strokes are checked (points, coordinates, colour, width), throttled per drawer and
 * bounded per round, so a drawer cannot flood the room.
 */

export const CATCH_MIND_DEFAULTS = {
  roundMs: 90_000,
  intermissionMs: 3_000,
  /** Strokes arrive in short segments while the pen moves (~20 a second). */
  strokesPerSecond: 30,
  strokeBurst: 60,
  maxStrokesPerRound: 2_000,
  maxPointsPerRound: 100_000,
};

export interface CatchMindOptions {
  wordList: readonly string[];
  random: () => number;
  /** Default: one round per player at the start (each draws once). */
  rounds?: number;
  roundMs?: number;
  intermissionMs?: number;
  strokesPerSecond?: number;
  strokeBurst?: number;
  maxStrokesPerRound?: number;
  maxPointsPerRound?: number;
}

export class CatchMindGame extends RoundGame {
  readonly kind = 'catchmind' as const;
  readonly #opts: Required<Omit<CatchMindOptions, 'rounds'>>;
  readonly #rounds: number;
  /** Drawing order; joiners are appended, leavers removed. */
  readonly #rotation: GamePlayer[];
  readonly #asked = new Set<string>();
  #nextDrawer = 0;
  #drawer: GamePlayer | undefined;
  /** The unsolved word; undefined between rounds. */
  #word: string | undefined;
  #deadline: number | null = null;
  #strokes: Stroke[] = [];
  #canvas = 0;
  #points = 0;
  #throttle: TokenBucket | undefined;

  constructor(ctx: GameContext, opts: CatchMindOptions) {
    super(ctx);
    const { rounds, ...rest } = stripUndefined(opts);
    this.#opts = { ...CATCH_MIND_DEFAULTS, wordList: opts.wordList, random: opts.random, ...rest };
    this.#rotation = ctx.players.map((p) => ({ ...p }));
    this.#rounds = rounds ?? Math.max(1, this.#rotation.length);
  }

  start(): void {
    this.host.broadcast({ method: 'game.started', data: { game: this.snapshot('') } });
    this.nextRound();
  }

  override draw(memberId: string, stroke: unknown): MoveResult {
    const gate = this.#drawerGate(memberId);
    if (gate) return gate;
    const parsed = safeParseInput(strokeSchema, stroke);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      return refuse('INVALID_STROKE', `invalid stroke: ${where}${issue?.message ?? 'bad shape'}`);
    }
    const points = parsed.data.points.length;
    if (
      this.#strokes.length >= this.#opts.maxStrokesPerRound ||
      this.#points + points > this.#opts.maxPointsPerRound
    )
      return refuse('CANVAS_FULL', 'the canvas is full: clear it to draw on');
    if (!this.#throttle!.take()) return refuse('RATE_LIMITED', 'drawing too fast');
    this.#strokes.push(parsed.data);
    this.#points += points;
    this.host.broadcast({
      method: 'game.catchmind.stroke',
      data: { drawerId: memberId, stroke: parsed.data },
    });
    return accepted;
  }

  override clearCanvas(memberId: string): MoveResult {
    const gate = this.#drawerGate(memberId);
    if (gate) return gate;
    this.#strokes = [];
    this.#canvas = ++canvases;
    this.#points = 0;
    this.host.broadcast({ method: 'game.catchmind.cleared', data: { drawerId: memberId } });
    return accepted;
  }

  override guess(memberId: string, text: string): GuessOutcome {
    const word = this.#word;
    if (this.over || word === undefined) return 'none';
    const guess = normalizeGuess(text);
    // The drawer must not give the word away in the chat.
    if (memberId === this.#drawer?.id) return guess.includes(word) ? 'withhold' : 'none';
    if (guess !== word) return 'none';
    this.board.add(memberId, 1);
    this.board.add(this.#drawer!.id, 1);
    this.#closeRound();
    this.host.broadcast({
      method: 'game.catchmind.solved',
      data: { round: this.round, playerId: memberId, word, scores: this.board.entries() },
    });
    this.afterRound(this.#opts.intermissionMs);
    return 'correct';
  }

  memberJoined(member: GamePlayer): void {
    this.board.join(member);
    const seat = this.#rotation.find((p) => p.id === member.id);
    if (seat) seat.nickname = member.nickname;
    else this.#rotation.push({ ...member });
  }

  memberLeft(memberId: string): void {
    const index = this.#rotation.findIndex((p) => p.id === memberId);
    if (index < 0 || this.over) return;
    this.#rotation.splice(index, 1);
    if (index < this.#nextDrawer) this.#nextDrawer -= 1;
    if (this.#rotation.length < 2) {
      this.end('not-enough-players', this.board.leaders());
      return;
    }
    if (memberId === this.#drawer?.id && this.#word !== undefined) {
      const word = this.#word;
      this.#closeRound();
      this.host.broadcast({
        method: 'game.catchmind.revealed',
        data: { round: this.round, word, reason: 'drawer-left' },
      });
      this.afterRound(this.#opts.intermissionMs);
    }
  }

  snapshot(forMemberId: string): GameSnapshot {
    const word = this.#word;
    const drawerId = word === undefined ? null : this.#drawer!.id;
    const snapshot: Extract<GameSnapshot, { kind: 'catchmind' }> = {
      kind: 'catchmind',
      startedBy: this.startedBy,
      round: this.round,
      rounds: this.#rounds,
      drawerId,
      wordLength: word === undefined ? null : syllableCount(word),
      deadline: this.#deadline,
      strokes: this.#strokes.map((s) => ({ ...s, points: s.points.map(([x, y]) => [x, y]) })),
      scores: this.board.entries(),
    };
    // The word goes to its drawer alone.
    if (word !== undefined && forMemberId === drawerId) snapshot.word = word;
    return snapshot;
  }

  /** Only the drawer, only while a round runs. */
  #drawerGate(memberId: string): MoveResult | undefined {
    if (this.over || this.#word === undefined)
      return refuse('BETWEEN_ROUNDS', 'no round is being drawn right now');
    if (memberId !== this.#drawer?.id) return refuse('NOT_DRAWER', 'only the drawer can draw');
    return undefined;
  }

  protected get rounds(): number {
    return this.#rounds;
  }

  protected openRound(): void {
    this.#nextDrawer %= this.#rotation.length;
    const drawer = this.#rotation[this.#nextDrawer]!;
    this.#nextDrawer += 1;
    const word = this.#pickWord();
    this.#drawer = drawer;
    this.#word = word;
    this.#strokes = [];
    this.#canvas = ++canvases;
    this.#points = 0;
    this.#throttle = this.#newThrottle();
    this.#deadline = this.host.now() + this.#opts.roundMs;
    this.setTimer(this.#opts.roundMs, () => this.#timeUp());
    this.host.broadcast({
      method: 'game.catchmind.round',
      data: {
        round: this.round,
        rounds: this.#rounds,
        drawerId: drawer.id,
        wordLength: syllableCount(word),
        deadline: this.#deadline,
      },
    });
    this.host.send(drawer.id, {
      method: 'game.catchmind.word',
      data: { round: this.round, word },
    });
  }

  #newThrottle(): TokenBucket {
    return new TokenBucket({
      ratePerSecond: this.#opts.strokesPerSecond,
      burst: this.#opts.strokeBurst,
      now: () => this.host.now(),
    });
  }

  save(): SavedCatchMind {
    const { roundMs, intermissionMs } = this.#opts;
    const drawer = this.#word === undefined ? null : this.#drawer!;
    return {
      kind: 'catchmind',
      startedBy: this.startedBy,
      ...this.savedRounds(),
      rounds: this.#rounds,
      roundMs,
      intermissionMs,
      asked: [...this.#asked],
      rotation: this.#rotation.map((p) => [p.id, p.nickname]),
      nextDrawer: this.#nextDrawer,
      drawer: drawer && [drawer.id, drawer.nickname],
      word: this.#word ?? null,
    };
  }

  /** The canvas the saver keeps apart: which one (a new round or a clear is another), and its strokes. */
  canvas(): { id: number; strokes: readonly Stroke[] } {
    return { id: this.#canvas, strokes: this.#strokes };
  }

  /** The game as another node saved it, with the round's strokes; `resume` re-arms its timer. */
  static restore(
    ctx: GameContext,
    opts: Omit<CatchMindOptions, 'rounds' | 'roundMs' | 'intermissionMs'>,
    saved: SavedCatchMind,
    strokes: Stroke[],
  ): CatchMindGame {
    const { rounds, roundMs, intermissionMs } = saved;
    const rotation = saved.rotation.map(([id, nickname]) => ({ id, nickname }));
    const game = new CatchMindGame(
      { ...ctx, players: rotation },
      { ...opts, rounds, roundMs, intermissionMs },
    );
    game.restoreRounds(saved);
    for (const w of saved.asked) game.#asked.add(w);
    game.#nextDrawer = saved.nextDrawer;
    if (saved.word !== null && saved.drawer) {
      const [id, nickname] = saved.drawer;
      game.#drawer = rotation.find((p) => p.id === id) ?? { id, nickname };
      game.#word = saved.word;
      game.#deadline = saved.timerAt;
      game.#strokes = strokes;
      game.#points = strokes.reduce((n, s) => n + s.points.length, 0);
      game.#throttle = game.#newThrottle();
    }
    game.#canvas = ++canvases;
    return game;
  }

  resume(): void {
    this.resumeTimer(() => (this.#word !== undefined ? this.#timeUp() : this.nextRound()));
  }

  #pickWord(): string {
    const list = this.#opts.wordList;
    const fresh = list.filter((w) => !this.#asked.has(w));
    const pool = fresh.length > 0 ? fresh : list;
    const word = pool[Math.floor(this.#opts.random() * pool.length)] ?? pool[0]!;
    this.#asked.add(word);
    return word;
  }

  #timeUp(): void {
    const word = this.#word!;
    this.#closeRound();
    this.host.broadcast({
      method: 'game.catchmind.revealed',
      data: { round: this.round, word, reason: 'timeout' },
    });
    this.afterRound(this.#opts.intermissionMs);
  }

  #closeRound(): void {
    this.cancelTimers();
    this.#word = undefined;
    this.#deadline = null;
    this.#throttle = undefined;
  }
}
