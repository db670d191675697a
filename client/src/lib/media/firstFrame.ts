/**
 * Whether the room view has shown a remote video frame yet (a tile reports it). Our own
 * camera is published after that, not merely once the receive transport connects: encoding
 * 3 simulcast layers and the send side's SDP work took the CPU and the main thread in the
 * very window where the first remote key frame is decoded and shown (bench:join).
 */
export class FirstFrame {
  #shown = false;
  #waiters: (() => void)[] = [];

  /** A remote video frame was shown. */
  shown(): void {
    this.#shown = true;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  /** Media rebuilt (a restart, a rejoin): the next frame counts again. */
  reset(): void {
    this.#shown = false;
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
}
