import { KeyedRateLimiter } from '../kernel/rateLimit.ts';
import { REACTION_EMOJI, type GameNotificationMap, type ReactionEmoji } from './protocol.ts';
import { refuse, type Refused } from './refusal.ts';

/**
 * Emoji reactions: only the allowed set, and a few per person at once then one a second, so
 * nobody can flood the room's tiles. One instance per room; `now` is injectable for tests.
 */

export const REACTION_RATE = { ratePerSecond: 1, burst: 5 };

export type Reaction = GameNotificationMap['reaction.sent'];

export class ReactionGate {
  readonly #limiter: KeyedRateLimiter;
  readonly #now: () => number;
  readonly #allowed: ReadonlySet<string>;

  constructor(
    opts: {
      now?: () => number;
      ratePerSecond?: number;
      burst?: number;
      allowed?: readonly string[];
    } = {},
  ) {
    this.#now = opts.now ?? Date.now;
    this.#allowed = new Set(opts.allowed ?? REACTION_EMOJI);
    this.#limiter = new KeyedRateLimiter({
      ratePerSecond: opts.ratePerSecond ?? REACTION_RATE.ratePerSecond,
      burst: opts.burst ?? REACTION_RATE.burst,
      now: this.#now,
    });
  }

  /** The reaction to broadcast, or why not. */
  react(memberId: string, emoji: string): { ok: true; reaction: Reaction } | Refused {
    if (!this.#allowed.has(emoji)) return refuse('NOT_ALLOWED', 'that reaction is not offered');
    if (!this.#limiter.take(memberId)) return refuse('RATE_LIMITED', 'too many reactions');
    return {
      ok: true,
      reaction: { peerId: memberId, emoji: emoji as ReactionEmoji, at: this.#now() },
    };
  }

  /** Drops refilled buckets (call now and then, or when members leave). */
  prune(): void {
    this.#limiter.prune();
  }
}
