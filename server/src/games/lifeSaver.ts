import type { LifeSaveOutcome } from './remote.ts';
import type { RoomLife } from './roomLife.ts';
import type { LifeWrite } from './saved.ts';

/** What the store's stroke log holds, as this saver last wrote it. */
type Canvas = { id: number; count: number } | 'none' | 'unknown';

/**
 * Keeps a room's life in the shared store on every change (saved.ts), so the node that takes
 * the room over when this one dies carries it on. Every change of a game or the hand queue is
 * announced to the members, and the life's members changing is seen in Lives: both `touch`
 * it. Writes are coalesced (one per turn of the event loop, one at a time, the newest state),
 * skipped when nothing changed, and CatchMind's canvas is appended to, not rewritten. A write
 * refused because another node holds the room now (this life is stale) stops it for good and
 * says so (`taken`); one that failed otherwise is tried again on the next change.
 */
export class LifeSaver {
  readonly #life: () => RoomLife | undefined;
  readonly #write: (write: LifeWrite) => Promise<LifeSaveOutcome>;
  readonly #taken: () => void;
  #state = '';
  #canvas: Canvas = 'unknown';
  #dirty = false;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(
    life: () => RoomLife | undefined,
    write: (write: LifeWrite) => Promise<LifeSaveOutcome>,
    taken: () => void,
  ) {
    this.#life = life;
    this.#write = write;
    this.#taken = taken;
  }

  /** The life was restored from the store: its canvas is there already. */
  restored(life: RoomLife): void {
    const canvas = life.games.canvas();
    this.#canvas = canvas ? { id: canvas.id, count: canvas.strokes.length } : 'unknown';
  }

  touch(): void {
    if (this.#closed) return;
    this.#dirty = true;
    this.#running ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#flush())
      .finally(() => {
        this.#running = undefined;
        if (this.#dirty) this.touch(); // Touched as the last write settled.
      });
  }

  /** Resolves once what was touched so far is written (or failed). */
  async flushed(): Promise<void> {
    while (this.#running) await this.#running;
  }

  close(): void {
    this.#closed = true;
  }

  async #flush(): Promise<void> {
    while (this.#dirty && !this.#closed) {
      this.#dirty = false;
      const life = this.#life();
      if (!life) return;
      const state = JSON.stringify(life.saved());
      const canvas = life.games.canvas();
      const last = this.#canvas;
      let resetStrokes: boolean;
      let strokes: readonly unknown[];
      let next: Canvas;
      if (canvas === null) {
        [resetStrokes, strokes, next] = [last !== 'none', [], 'none'];
      } else {
        const same = typeof last === 'object' && last.id === canvas.id;
        resetStrokes = !same;
        strokes = same ? canvas.strokes.slice(last.count) : canvas.strokes;
        next = { id: canvas.id, count: canvas.strokes.length };
      }
      const changed = state !== this.#state;
      if (!changed && !resetStrokes && strokes.length === 0) continue;
      const written = await this.#write({
        state: changed ? state : '',
        resetStrokes,
        strokes: strokes.map((s) => JSON.stringify(s)),
      });
      if (written === 'taken') {
        this.close();
        return this.#taken();
      }
      if (written === 'failed') continue; // Tried again on the next change.
      this.#state = state;
      this.#canvas = next;
    }
  }
}
