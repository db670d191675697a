import { randomUUID } from 'node:crypto';
import type { Stamp } from './mediaMethods.ts';

/**
 * The origin's count of what it announced to its watchers. An announcement is stamped with
 * the next number; a list or answer with the number reached, so it shows every change
 * announced up to it. The epoch tells this process from the node's next one (counts restart).
 */
export class OriginClock {
  readonly #epoch = randomUUID();
  #seq = 0;

  /** An announcement: a change after everything stamped before it. */
  next(): Stamp {
    return { epoch: this.#epoch, seq: ++this.#seq };
  }

  /** A list or answer of the state now. */
  now(): Stamp {
    return { epoch: this.#epoch, seq: this.#seq };
  }
}

/** Something an origin said: an announcement (one change) or a snapshot (its state then). */
export interface Heard {
  readonly stamp: Stamp;
  readonly snapshot: boolean;
}

export const announced = (stamp: Stamp): Heard => ({ stamp, snapshot: false });
export const listed = (stamp: Stamp): Heard => ({ stamp, snapshot: true });

/**
 * Rank of what was heard: announcement n → 2n; a snapshot at n → 2n + 1, newer than the
 * announcements up to n (it shows them) and older than n + 1 (made before it).
 */
const rank = (heard: Heard): number => 2 * heard.stamp.seq + (heard.snapshot ? 1 : 0);

/**
 * What an edge heard from one origin about one room: whether its watch was answered, and per
 * producer how new the last thing applied was. Something older never undoes something newer:
 * a reconcile list made before an announcement that overtook its answer, a pipe.consume
 * answer made before a pause. Two snapshots at the same count are as new as each other (an
 * origin with nothing to announce answers the same count every time): both apply.
 */
export class OriginView {
  /** The watch was answered: the rooms the edge reconciles are these. */
  answered = false;
  #epoch: string | undefined;
  readonly #marks = new Map<string, { rank: number; open: boolean }>();

  /** Whether `heard` about the producer is newer than what was applied; noted if so. */
  take(producerId: string, heard: Heard, open: boolean): boolean {
    this.#sameProcess(heard.stamp);
    const r = rank(heard);
    const mark = this.#marks.get(producerId);
    if (mark && (mark.rank > r || (mark.rank === r && !heard.snapshot))) return false;
    this.#marks.set(producerId, { rank: r, open });
    return true;
  }

  /**
   * A producer closed: an announcement always closes it (a closed producer never comes back)
   * and is remembered, so that an older list naming it does not pipe it in again.
   */
  closed(producerId: string, heard: Heard): boolean {
    if (heard.snapshot) return this.take(producerId, heard, false);
    this.#sameProcess(heard.stamp);
    const r = Math.max(rank(heard), this.#marks.get(producerId)?.rank ?? 0);
    this.#marks.set(producerId, { rank: r, open: false });
    return true;
  }

  /** After a snapshot: closes it already showed need not be remembered any more. */
  prune(stamp: Stamp): void {
    const upTo = rank(listed(stamp));
    for (const [id, mark] of this.#marks)
      if (!mark.open && mark.rank <= upTo) this.#marks.delete(id);
  }

  /** A new process of the origin node counts from 0: nothing heard from the old one counts. */
  #sameProcess(stamp: Stamp): void {
    if (stamp.epoch === this.#epoch) return;
    this.#marks.clear();
    this.#epoch = stamp.epoch;
  }
}
