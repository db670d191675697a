import type { RoomPlacement } from '../cluster/index.ts';
import type { Logger } from '../kernel/log.ts';
import { bounded } from './timeout.ts';

const RETRY_MS = 2000;
const MAX_PENDING = 10_000;

/**
 * Gives cluster seats back. A release that fails (Redis away) is retried every 2 s until it
 * goes through, so a member who left during an outage does not hold a seat for ever.
 */
export class SeatReleases {
  readonly #placement: RoomPlacement;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  /** "roomId memberId" → [roomId, memberId], waiting for a retry. */
  readonly #pending = new Map<string, [string, string]>();
  #timer: NodeJS.Timeout | undefined;

  constructor(placement: RoomPlacement, log: Logger, timeoutMs: number) {
    this.#placement = placement;
    this.#log = log;
    this.#timeoutMs = timeoutMs;
  }

  release(roomId: string, memberId: string): void {
    bounded(this.#placement.release(roomId, memberId), this.#timeoutMs).catch(() => {
      if (this.#pending.size >= MAX_PENDING) return;
      if (this.#pending.size === 0) this.#log.warn({ roomId }, 'presence: seat release retried');
      this.#pending.set(`${roomId} ${memberId}`, [roomId, memberId]);
      this.#schedule();
    });
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const batch = [...this.#pending.values()];
      this.#pending.clear();
      for (const [roomId, memberId] of batch) this.release(roomId, memberId);
    }, RETRY_MS);
    this.#timer.unref();
  }
}
