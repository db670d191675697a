import type { WordList } from './dictionary.ts';
import { Game, type GameContext } from './engine.ts';
import { allowedStarts, firstSyllable, normalizeWord } from './hangul.ts';
import type { GamePlayer, GameSnapshot, ScoreEntry } from './protocol.ts';
import { accepted, refuse, type MoveResult } from './refusal.ts';
import type { SavedWordChain } from './saved.ts';

/**
 * 끝말잇기. Players take turns in the order given; each word must start with the last
 * syllable of the previous one or its 두음법칙 form, be a noun in the dictionary and not have
 * been played. A refused word costs nothing but time: the player may retry until the turn
 * timer runs out, which puts them out. The last player in wins.
 */

export const WORD_CHAIN_DEFAULT_TURN_MS = 20_000;

interface ChainPlayer extends GamePlayer {
  out: boolean;
  words: number;
}

export class WordChainGame extends Game {
  readonly kind = 'wordchain' as const;
  readonly #words: WordList;
  readonly #turnMs: number;
  readonly #players: ChainPlayer[];
  readonly #used = new Set<string>();
  readonly #played: { playerId: string; word: string }[] = [];
  #turn = -1;
  #deadline = 0;
  #cancelTimer: (() => void) | undefined;

  constructor(ctx: GameContext, opts: { words: WordList; turnMs?: number }) {
    super(ctx);
    this.#words = opts.words;
    this.#turnMs = opts.turnMs ?? WORD_CHAIN_DEFAULT_TURN_MS;
    this.#players = ctx.players.map((p) => ({
      id: p.id,
      nickname: p.nickname,
      out: false,
      words: 0,
    }));
  }

  start(): void {
    this.host.broadcast({ method: 'game.started', data: { game: this.snapshot() } });
    this.#beginTurn(0);
  }

  get #lastWord(): string | undefined {
    return this.#played.at(-1)?.word;
  }

  get #current(): ChainPlayer | undefined {
    return this.over ? undefined : this.#players[this.#turn];
  }

  override submitWord(memberId: string, text: string): MoveResult {
    if (this.over) return refuse('NO_GAME', 'the game is over');
    const player = this.#players.find((p) => p.id === memberId);
    if (!player) return refuse('NOT_A_PLAYER', 'you are not playing this game');
    if (player.out) return refuse('NOT_A_PLAYER', 'you are out of this game');
    if (this.#current?.id !== memberId) return refuse('NOT_YOUR_TURN', 'not your turn');

    const word = normalizeWord(text);
    const last = this.#lastWord;
    if (last !== undefined) {
      const starts = allowedStarts(last);
      if (!starts.includes(firstSyllable(word)))
        return refuse('WRONG_START', `must start with ${starts.join(' or ')}`);
    }
    if (!this.#words.has(word)) return refuse('NOT_IN_DICTIONARY', 'not in the dictionary');
    if (this.#used.has(word)) return refuse('ALREADY_USED', 'already used');

    this.#used.add(word);
    this.#played.push({ playerId: memberId, word });
    player.words += 1;
    this.host.broadcast({ method: 'game.wordchain.word', data: { playerId: memberId, word } });
    this.#beginTurn(this.#nextActive(this.#turn));
    return accepted;
  }

  memberJoined(_member: GamePlayer): void {
    // Players are fixed at the start; newcomers watch. A player coming back keeps their seat.
  }

  memberLeft(memberId: string): void {
    const index = this.#players.findIndex((p) => p.id === memberId && !p.out);
    if (index < 0 || this.over) return;
    this.#putOut(index, 'left');
  }

  snapshot(): GameSnapshot {
    const current = this.#current;
    const last = this.#lastWord;
    return {
      kind: 'wordchain',
      startedBy: this.startedBy,
      players: this.#players.map((p) => ({ id: p.id, nickname: p.nickname, out: p.out })),
      turn: current
        ? {
            playerId: current.id,
            startsWith: last === undefined ? null : allowedStarts(last),
            deadline: this.#deadline,
          }
        : null,
      words: this.#played.map((w) => ({ ...w })),
    };
  }

  save(): SavedWordChain {
    return {
      kind: 'wordchain',
      startedBy: this.startedBy,
      turnMs: this.#turnMs,
      players: this.#players.map((p) => [p.id, p.nickname, p.out, p.words]),
      played: this.#played.map((w) => [w.playerId, w.word]),
      turn: this.#turn,
      deadline: this.#deadline,
    };
  }

  /** The chain as another node saved it; `resume` re-arms the turn's timer. */
  static restore(ctx: GameContext, words: WordList, saved: SavedWordChain): WordChainGame {
    const players = saved.players.map(([id, nickname]) => ({ id, nickname }));
    const game = new WordChainGame({ ...ctx, players }, { words, turnMs: saved.turnMs });
    saved.players.forEach(([, , out, played], i) => {
      game.#players[i]!.out = out;
      game.#players[i]!.words = played;
    });
    for (const [playerId, word] of saved.played) {
      game.#used.add(word);
      game.#played.push({ playerId, word });
    }
    game.#turn = saved.turn;
    game.#deadline = saved.deadline;
    return game;
  }

  resume(): void {
    const index = this.#turn;
    const left = Math.max(0, this.#deadline - this.host.now());
    this.#cancelTimer = this.host.schedule(left, () => this.#putOut(index, 'timeout'));
  }

  protected scores(): ScoreEntry[] {
    return this.#players
      .map((p) => ({ playerId: p.id, nickname: p.nickname, score: p.words }))
      .sort((a, b) => b.score - a.score);
  }

  protected cancelTimers(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  #beginTurn(index: number): void {
    this.cancelTimers();
    this.#turn = index;
    const player = this.#players[index]!;
    this.#deadline = this.host.now() + this.#turnMs;
    this.#cancelTimer = this.host.schedule(this.#turnMs, () => this.#putOut(index, 'timeout'));
    const last = this.#lastWord;
    this.host.broadcast({
      method: 'game.wordchain.turn',
      data: {
        playerId: player.id,
        startsWith: last === undefined ? null : allowedStarts(last),
        deadline: this.#deadline,
      },
    });
  }

  #putOut(index: number, reason: 'timeout' | 'left'): void {
    const player = this.#players[index]!;
    player.out = true;
    this.host.broadcast({ method: 'game.wordchain.out', data: { playerId: player.id, reason } });
    const left = this.#players.filter((p) => !p.out);
    if (left.length <= 1) {
      this.end(
        'finished',
        left.map((p) => p.id),
      );
      return;
    }
    // The chain carries on from the same word with the next player still in.
    if (index === this.#turn) this.#beginTurn(this.#nextActive(index));
  }

  #nextActive(from: number): number {
    for (let step = 1; step <= this.#players.length; step++) {
      const i = (from + step) % this.#players.length;
      if (!this.#players[i]!.out) return i;
    }
    return from;
  }
}
