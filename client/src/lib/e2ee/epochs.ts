/**
 * Which key epochs a receiver accepts (docs/e2ee.md). Senders seal with the room's current
 * epoch; when the room moves on, frames sealed just before (in flight, or from a sender that
 * heard the news a moment later) still open for `PREVIOUS_MS`, then that epoch is refused.
 * A frame a little ahead (its sender heard first) opens too; far ahead or far behind, never
 * (nobody makes us derive keys for arbitrary epochs).
 */

/** How long the previous epoch's frames still open after a change. */
export const PREVIOUS_MS = 5000;
/** How far ahead of ours a sender's epoch may be (signals can cross). */
export const AHEAD = 4;

export class Epochs {
  current = 0;
  #previous: { epoch: number; until: number } | undefined;

  /**
   * The room moved to `epoch`: never backwards, unless `reset` (a join again, to a server
   * that may have restarted its count).
   */
  set(epoch: number, reset = false, now: number = Date.now()): void {
    if (epoch === this.current || (epoch < this.current && !reset)) return;
    this.#previous = { epoch: this.current, until: now + PREVIOUS_MS };
    this.current = epoch;
  }

  /** Whether a frame of `epoch` may be opened now. */
  accepts(epoch: number, now: number = Date.now()): boolean {
    if (epoch >= this.current) return epoch <= this.current + AHEAD;
    const p = this.#previous;
    return p !== undefined && epoch >= p.epoch && now < p.until;
  }

  /** Whether keys of `epoch` can be forgotten (no frame of it will be opened again). */
  stale(epoch: number, now: number = Date.now()): boolean {
    return epoch < this.current && !this.accepts(epoch, now);
  }
}
