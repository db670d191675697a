import type { z } from 'zod';
import { TuttiError } from '@tutti/protocol';
import type { GuessOutcome } from './engine.ts';
import { HandQueue } from './handQueue.ts';
import type { GameHost } from './host.ts';
import { GameManager, type GameManagerOptions } from './manager.ts';
import {
  gameRequestSchemas,
  isGameRequestMethod,
  type GamePlayer,
  type GameRequestMethod,
  type GameResponseMap,
  type GameValidRequestData,
  type HandQueueState,
  type RoomLifeJoinExtras,
} from './protocol.ts';
import { ReactionGate } from './reactions.ts';
import { refusalError, type MoveResult } from './refusal.ts';
import type { SavedLife } from './saved.ts';
import type { Stroke } from './protocol.ts';
import { safeParseInput } from '@tutti/protocol/schemas';

/**
 * Everything of room life for one room behind one door: games, reactions, raised hands.
 * Signaling hands it each `game.*`, `reaction.*`, `hand.*` request as it came off the wire
 * (`handle` validates it), feeds it chat text (`chat`), and tells it who joined and left.
 * Answers are the typed responses; refusals throw TuttiError (`FORBIDDEN: NOT_YOUR_TURN: …`).
 */

export interface Caller {
  /** Stable across reconnects (not the per-connection protoo peer id). */
  memberId: string;
  /** Room owner or moderator: may stop others' games and lower others' hands. */
  moderator?: boolean;
}

type Handlers = {
  [M in GameRequestMethod]: (
    caller: Caller,
    data: GameValidRequestData<M>,
  ) => GameResponseMap[M] | Promise<GameResponseMap[M]>;
};

export class RoomLife {
  readonly games: GameManager;
  readonly hands: HandQueue;
  readonly reactions: ReactionGate;
  readonly #host: GameHost;
  readonly #handlers: Handlers;

  constructor(opts: GameManagerOptions & { reactions?: ReactionGate }) {
    this.#host = opts.host;
    this.games = new GameManager(opts);
    this.hands = new HandQueue({ now: () => opts.host.now() });
    this.reactions = opts.reactions ?? new ReactionGate({ now: () => opts.host.now() });
    this.#handlers = this.#makeHandlers();
  }

  memberJoined(member: GamePlayer): void {
    this.games.memberJoined(member);
  }

  memberLeft(memberId: string): void {
    this.games.memberLeft(memberId);
    if (this.hands.memberLeft(memberId)) this.#broadcastHands();
  }

  roomEmptied(): void {
    this.games.roomEmptied();
    this.hands.clear();
    this.reactions.prune();
  }

  /** This node stops running it (it is saved; another node carries it on). */
  suspend(): void {
    this.games.suspend();
  }

  /** What the shared store keeps (saved.ts): members, the hand queue, the running game. */
  saved(): SavedLife {
    const { members, game } = this.games.saved();
    const hands = this.hands.state().queue.map((h): [string, number] => [h.peerId, h.raisedAt]);
    return { v: 1, members, hands, game };
  }

  /**
   * The life another node kept (it died): its members, hand queue and game, carried on here
   * (the game's timer at its saved deadline). Nothing is announced yet (`announce`). True
   * when a game was restored.
   */
  async restore(saved: SavedLife, strokes: Stroke[]): Promise<boolean> {
    const queue = saved.hands.map(([peerId, raisedAt]) => ({ peerId, raisedAt }));
    this.hands.restore({ queue } satisfies HandQueueState, () => true);
    return this.games.restore(saved.members, saved.game, strokes);
  }

  /** After a restore: each of `memberIds` is told the game as they see it, everyone the queue. */
  announce(memberIds: Iterable<string>): void {
    for (const id of memberIds) {
      const game = this.games.snapshot(id);
      if (game) this.#host.send(id, { method: 'game.snapshot', data: { game } });
    }
    if (this.hands.state().queue.length > 0) this.#broadcastHands();
  }

  /** For the room.join answer: the game as this member sees it, and the hand queue. */
  joinExtras(memberId: string): RoomLifeJoinExtras {
    return { game: this.games.snapshot(memberId), hands: this.hands.state() };
  }

  /** A chat message, before the chat relays it; on `withhold` it must not be relayed. */
  chat(memberId: string, text: string): GuessOutcome {
    return this.games.guess(memberId, text);
  }

  async handle<M extends GameRequestMethod>(
    caller: Caller,
    method: M,
    data: unknown,
  ): Promise<GameResponseMap[M]> {
    if (!isGameRequestMethod(method)) throw new TuttiError('UNKNOWN_METHOD', `no method ${method}`);
    const schema: z.ZodType = gameRequestSchemas[method];
    const parsed = safeParseInput(schema, data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      throw new TuttiError('INVALID_REQUEST', `${method}: ${where}${issue?.message ?? 'invalid'}`);
    }
    const handler = this.#handlers[method] as (
      caller: Caller,
      data: unknown,
    ) => GameResponseMap[M] | Promise<GameResponseMap[M]>;
    return handler(caller, parsed.data);
  }

  #makeHandlers(): Handlers {
    const empty = {} as Record<string, never>;
    return {
      'game.start': async ({ memberId }, { kind, options }) => {
        orThrow(await this.games.start(memberId, kind, options));
        return { game: this.games.snapshot(memberId)! };
      },
      'game.stop': ({ memberId, moderator }) => {
        orThrow(this.games.stop(memberId, { moderator: moderator ?? false }));
        return empty;
      },
      'game.state': ({ memberId }) => ({ game: this.games.snapshot(memberId) }),
      'game.word': ({ memberId }, { word }) => {
        orThrow(this.games.word(memberId, word));
        return empty;
      },
      'game.guess': ({ memberId }, { text }) => {
        const outcome = this.games.guess(memberId, text);
        if (outcome === 'withhold')
          throw new TuttiError('FORBIDDEN', 'NOT_ALLOWED: the drawer cannot give the word away');
        return { correct: outcome === 'correct' };
      },
      'game.draw': ({ memberId }, { stroke }) => {
        orThrow(this.games.draw(memberId, stroke));
        return empty;
      },
      'game.clearCanvas': ({ memberId }) => {
        orThrow(this.games.clearCanvas(memberId));
        return empty;
      },
      'reaction.send': ({ memberId }, { emoji }) => {
        const result = this.reactions.react(memberId, emoji);
        if (!result.ok) throw refusalError(result.refusal);
        this.#host.broadcast({ method: 'reaction.sent', data: result.reaction });
        return empty;
      },
      'hand.raise': ({ memberId }) => {
        if (this.hands.raise(memberId).changed) this.#broadcastHands();
        return this.hands.state();
      },
      'hand.lower': ({ memberId, moderator }, { peerId }) => {
        orThrow(this.hands.lower(memberId, { target: peerId, moderator: moderator ?? false }));
        this.#broadcastHands();
        return this.hands.state();
      },
    };
  }

  #broadcastHands(): void {
    this.#host.broadcast({ method: 'hand.queue', data: this.hands.state() });
  }
}

function orThrow(result: MoveResult): void {
  if (!result.ok) throw refusalError(result.refusal);
}
