/** The first tries after a failure (0.5, 1, 2 s) come before any "is it still wanted" check. */
export const EAGER_ATTEMPTS = 3;
const BASE_MS = 500;
/** However long the origin stays away, it is asked again at least this often. */
export const RETRY_CAP_MS = 5000;

export const backoffMs = (attempt: number): number =>
  Math.min(BASE_MS * 2 ** attempt, RETRY_CAP_MS);

interface Where {
  readonly roomId: string;
  readonly origin: string;
  /** A pipe-in's; a watch's has none. */
  readonly producerId?: string;
}

interface Pending extends Where {
  readonly timer: NodeJS.Timeout;
}

/**
 * The media edge's retries (a watch or a pipe that failed): at most one pending per key, so
 * two failures of the same thing never run two chains, and cancelled when the room or the
 * producer they are for goes. Each retry checks again at its time whether it is still wanted.
 */
export class EdgeRetries {
  readonly #pending = new Map<string, Pending>();

  /** Retries pending (tests, inspection). */
  get size(): number {
    return this.#pending.size;
  }

  /** Runs `fn` after the backoff of `attempt`, instead of whatever was pending under `key`. */
  schedule(key: string, where: Where, attempt: number, fn: () => void): void {
    this.cancel(key);
    const timer = setTimeout(() => {
      if (this.#pending.get(key)?.timer === timer) this.#pending.delete(key);
      fn();
    }, backoffMs(attempt));
    timer.unref();
    this.#pending.set(key, { ...where, timer });
  }

  cancel(key: string): void {
    const pending = this.#pending.get(key);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending.delete(key);
  }

  /** The producers of `origin` in the room whose pipe-in waits to be tried again. */
  *producers(roomId: string, origin: string): Iterable<string> {
    for (const p of this.#pending.values())
      if (p.producerId !== undefined && p.roomId === roomId && p.origin === origin)
        yield p.producerId;
  }

  /** Cancels every retry for the room (nobody here wants it) or from the origin (gone). */
  cancelWhere(match: { roomId?: string; origin?: string }): void {
    for (const [key, p] of [...this.#pending]) {
      if (match.roomId !== undefined && p.roomId !== match.roomId) continue;
      if (match.origin !== undefined && p.origin !== match.origin) continue;
      clearTimeout(p.timer);
      this.#pending.delete(key);
    }
  }
}
