/**
 * Whether a remote tile has shown a video frame yet (the tile reports it). The room view
 * renders its stage (the tiles) first and the rest — header controls, side panel, footer —
 * once that frame is on screen: their render and layout no longer hold the browser's ICE
 * start (it needs the main thread) and the first frame (docs/benchmarks.md, bench:join).
 */
export class FirstFrame {
  #shown = false;
  #waiters: (() => void)[] = [];

  /** A remote video frame was shown. */
  shown(): void {
    this.#shown = true;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  /** Resolves once a frame was shown, at most after timeoutMs. */
  wait(timeoutMs: number): Promise<void> {
    if (this.#shown || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.push(done);
    });
  }

  /**
   * Like `wait`, then one task later: work started from a frame callback would run inside
   * that frame's rendering update, ahead of the other callbacks for the same frame.
   */
  async waitThenTask(timeoutMs: number): Promise<void> {
    await this.wait(timeoutMs);
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}
