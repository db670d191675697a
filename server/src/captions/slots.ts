/** The node-wide bound on caption streams (captions.maxStreams), shared by every room. */
export class StreamSlots {
  readonly max: number;
  #used = 0;
  readonly #freed = new Set<() => void>();

  constructor(max: number) {
    this.max = max;
  }

  get used(): number {
    return this.#used;
  }

  /** Takes a slot; false when all are taken. */
  take(): boolean {
    if (this.#used >= this.max) return false;
    this.#used++;
    return true;
  }

  release(): void {
    this.#used = Math.max(0, this.#used - 1);
    for (const listener of [...this.#freed]) {
      if (this.#used >= this.max) break;
      listener();
    }
  }

  /** Called after a release while a slot is free: rooms waiting for one try again. */
  onFreed(listener: () => void): () => void {
    this.#freed.add(listener);
    return () => this.#freed.delete(listener);
  }
}
