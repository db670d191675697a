import {
  errorText,
  type GameKind,
  type GameNotificationMap,
  type GameNotificationMethod,
  type ReactionEmoji,
  type Stroke,
} from '@tutti/protocol';
import type { RoomLifeStore } from '../state/roomLife.svelte.ts';
import type { Signaling } from '../signaling.ts';

const NOTIFICATIONS = [
  'game.started',
  'game.ended',
  'game.snapshot',
  'game.wordchain.turn',
  'game.wordchain.word',
  'game.wordchain.out',
  'game.choseong.round',
  'game.choseong.solved',
  'game.choseong.timeout',
  'game.catchmind.round',
  'game.catchmind.word',
  'game.catchmind.stroke',
  'game.catchmind.cleared',
  'game.catchmind.solved',
  'game.catchmind.revealed',
  'reaction.sent',
  'hand.queue',
] as const satisfies readonly GameNotificationMethod[];

/** Room-life notifications → the store. Returns the unsubscribers. */
export function bindRoomLife(s: Signaling, life: RoomLifeStore): (() => void)[] {
  return NOTIFICATIONS.map((method) =>
    s.on(method, (data: GameNotificationMap[typeof method]) => life.apply(method, data)),
  );
}

/** Strokes in flight at most this often (the server also throttles: 30/s per drawer). */
export const STROKE_INTERVAL_MS = 80;

/**
 * What the game panel, the reaction picker and the hand button may do. A refused move (not
 * your turn, not in the dictionary…) lands in `life.error` with the server's reason.
 */
export class RoomLifeActions {
  constructor(
    private readonly signaling: Signaling,
    private readonly life: RoomLifeStore,
  ) {}

  start(kind: GameKind): Promise<boolean> {
    return this.#try(() => this.signaling.request('game.start', { kind }));
  }

  stop(): Promise<boolean> {
    return this.#try(() => this.signaling.request('game.stop', {}));
  }

  word(word: string): Promise<boolean> {
    return this.#try(() => this.signaling.request('game.word', { word }));
  }

  guess(text: string): Promise<boolean> {
    return this.#try(async () => {
      const { correct } = await this.signaling.request('game.guess', { text });
      if (!correct) this.life.error = `${text}: not it`;
    });
  }

  draw(stroke: Stroke): Promise<boolean> {
    return this.#try(() => this.signaling.request('game.draw', { stroke }));
  }

  clearCanvas(): Promise<boolean> {
    return this.#try(() => this.signaling.request('game.clearCanvas', {}));
  }

  react(emoji: ReactionEmoji): Promise<boolean> {
    return this.#try(() => this.signaling.request('reaction.send', { emoji }));
  }

  raiseHand(): Promise<boolean> {
    return this.#try(() => this.signaling.request('hand.raise', {}));
  }

  lowerHand(peerId?: string): Promise<boolean> {
    return this.#try(() => this.signaling.request('hand.lower', peerId ? { peerId } : {}));
  }

  async #try(run: () => Promise<unknown>): Promise<boolean> {
    this.life.error = null;
    try {
      await run();
      return true;
    } catch (err) {
      this.life.error = errorText(err);
      return false;
    }
  }
}
