import type { HandQueueState } from './protocol.ts';
import { accepted, refuse, type MoveResult } from './refusal.ts';

/**
 * Raised hands, in the order they went up. Anyone raises their own hand; it comes down by
 * its owner or a moderator (the caller says who is one), or when its owner leaves. Every
 * change answers the queue to broadcast as `hand.queue`.
 */

export class HandQueue {
  readonly #raised = new Map<string, number>();
  readonly #now: () => number;

  constructor(opts: { now?: () => number } = {}) {
    this.#now = opts.now ?? Date.now;
  }

  /** Raising a raised hand keeps its place (and changes nothing). */
  raise(memberId: string): { changed: boolean } {
    if (this.#raised.has(memberId)) return { changed: false };
    this.#raised.set(memberId, this.#now());
    return { changed: true };
  }

  /** `target` defaults to the actor's own hand; someone else's needs a moderator. */
  lower(actorId: string, opts: { target?: string; moderator?: boolean } = {}): MoveResult {
    const target = opts.target ?? actorId;
    if (target !== actorId && !opts.moderator)
      return refuse('NOT_ALLOWED', 'only a moderator can lower someone else’s hand');
    if (!this.#raised.delete(target)) return refuse('NOT_RAISED', 'that hand is not raised');
    return accepted;
  }

  /** The owner left the room: their hand goes too. True when the queue changed. */
  memberLeft(memberId: string): boolean {
    return this.#raised.delete(memberId);
  }

  isRaised(memberId: string): boolean {
    return this.#raised.has(memberId);
  }

  /** Oldest first (a Map keeps insertion order). */
  state(): HandQueueState {
    return { queue: [...this.#raised].map(([peerId, raisedAt]) => ({ peerId, raisedAt })) };
  }

  /** Takes over a queue another node kept (in its order), for the members `present` says are here. */
  restore(state: HandQueueState, present: (memberId: string) => boolean): void {
    for (const { peerId, raisedAt } of state.queue) {
      if (present(peerId) && !this.#raised.has(peerId)) this.#raised.set(peerId, raisedAt);
    }
  }

  clear(): void {
    this.#raised.clear();
  }
}
