import type {
  GameNotificationMap,
  GameNotificationMethod,
  GameSnapshot,
  HandQueueState,
  ReactionEmoji,
} from '@tutti/protocol';

export interface FloatingReaction {
  id: number;
  peerId: string;
  emoji: ReactionEmoji;
}

/** How long a reaction floats over its sender's tile. */
const REACTION_MS = 4000;

/**
 * Room life as the server tells it: the running game (the snapshot, kept up to date by each
 * game notification), the drawer's word (only ever ours), raised hands and floating
 * reactions. Knows nothing of signaling: session/roomLife.ts feeds it.
 */
export class RoomLifeStore {
  game = $state<GameSnapshot | null>(null);
  /** CatchMind: the word we draw (the server tells the drawer only). */
  word = $state<string | null>(null);
  /** The last round's outcome line ("Ann solved it: 자동차"). */
  line = $state<string | null>(null);
  ended = $state<GameNotificationMap['game.ended'] | null>(null);
  hands = $state<HandQueueState['queue']>([]);
  reactions = $state<FloatingReaction[]>([]);
  /** The last refusal of one of our moves (shown in `game-error`). */
  error = $state<string | null>(null);
  #nextReaction = 0;

  reset(game: GameSnapshot | null, hands: HandQueueState['queue']): void {
    this.game = game;
    this.word = game?.kind === 'catchmind' ? (game.word ?? null) : null;
    this.hands = hands;
  }

  reactionsOf(peerId: string): FloatingReaction[] {
    return this.reactions.filter((r) => r.peerId === peerId);
  }

  apply<M extends GameNotificationMethod>(method: M, data: GameNotificationMap[M]): void {
    const n = { method, data } as Notice;
    const g = this.game;
    switch (n.method) {
      case 'game.started':
        this.ended = null;
        this.line = null;
        this.error = null;
        this.reset(n.data.game, this.hands);
        return;
      case 'game.snapshot':
        this.reset(n.data.game, this.hands);
        return;
      case 'game.ended':
        this.ended = n.data;
        this.game = null;
        this.word = null;
        return;
      case 'hand.queue':
        this.hands = n.data.queue;
        return;
      case 'reaction.sent': {
        const id = ++this.#nextReaction;
        this.reactions.push({ id, peerId: n.data.peerId, emoji: n.data.emoji });
        setTimeout(() => (this.reactions = this.reactions.filter((r) => r.id !== id)), REACTION_MS);
        return;
      }
    }
    if (g?.kind === 'wordchain') {
      if (n.method === 'game.wordchain.turn') g.turn = n.data;
      else if (n.method === 'game.wordchain.word') g.words.push(n.data);
      else if (n.method === 'game.wordchain.out') {
        for (const p of g.players) if (p.id === n.data.playerId) p.out = true;
        this.line = `${this.nameOf(n.data.playerId)} is out (${n.data.reason})`;
      }
    } else if (g?.kind === 'choseong') {
      if (n.method === 'game.choseong.round') {
        Object.assign(g, { round: n.data.round, rounds: n.data.rounds });
        Object.assign(g, { initials: n.data.initials, deadline: n.data.deadline });
      } else if (n.method === 'game.choseong.solved') {
        Object.assign(g, { initials: null, deadline: null, scores: n.data.scores });
        this.line = `${this.nameOf(n.data.playerId)} solved it: ${n.data.answer}`;
      } else if (n.method === 'game.choseong.timeout') {
        Object.assign(g, { initials: null, deadline: null });
        this.line = `Time is up: ${n.data.answer}`;
      }
    } else if (g?.kind === 'catchmind') {
      if (n.method === 'game.catchmind.round') {
        const { round, rounds, drawerId, wordLength, deadline } = n.data;
        Object.assign(g, { round, rounds, drawerId, wordLength, deadline, strokes: [] });
        this.word = null;
      } else if (n.method === 'game.catchmind.word') this.word = n.data.word;
      else if (n.method === 'game.catchmind.stroke') g.strokes.push(n.data.stroke);
      else if (n.method === 'game.catchmind.cleared') g.strokes = [];
      else if (n.method === 'game.catchmind.solved') {
        Object.assign(g, { drawerId: null, deadline: null, scores: n.data.scores });
        this.word = null;
        this.line = `${this.nameOf(n.data.playerId)} got it: ${n.data.word}`;
      } else if (n.method === 'game.catchmind.revealed') {
        Object.assign(g, { drawerId: null, deadline: null });
        this.word = null;
        this.line = `It was ${n.data.word}`;
      }
    }
  }

  /** A player's nickname as the game knows it. */
  nameOf(playerId: string): string {
    const g = this.game;
    if (!g) return playerId;
    const list =
      g.kind === 'wordchain' ? g.players : g.scores.map((s) => ({ ...s, id: s.playerId }));
    return list.find((p) => p.id === playerId)?.nickname ?? 'someone';
  }
}

type Notice = {
  [M in GameNotificationMethod]: { method: M; data: GameNotificationMap[M] };
}[GameNotificationMethod];
