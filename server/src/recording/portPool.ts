import { TuttiError } from '@tutti/protocol';

/**
 * Even/odd UDP port pairs (RTP, RTCP) handed to ffmpeg, from the recording range's lower
 * half (the workers' PlainTransports take the upper half). A port is free again once its
 * ffmpeg exited.
 */
export class PortPool {
  readonly #min: number;
  readonly #max: number;
  readonly #taken = new Set<number>();
  #next: number;

  constructor(min: number, max: number) {
    this.#min = min % 2 === 0 ? min : min + 1;
    this.#max = max;
    this.#next = this.#min;
  }

  /** An RTP port (even); RTCP is the next one. Throws UNAVAILABLE when every pair is taken. */
  take(): number {
    const pairs = Math.floor((this.#max - this.#min + 1) / 2);
    for (let i = 0; i < pairs; i++) {
      const port = this.#next;
      this.#next = port + 2 > this.#max - 1 ? this.#min : port + 2;
      if (!this.#taken.has(port)) {
        this.#taken.add(port);
        return port;
      }
    }
    throw new TuttiError('UNAVAILABLE', 'no recording ports left on this node');
  }

  release(port: number): void {
    this.#taken.delete(port);
  }
}

/** Splits the configured range: [ffmpeg's pairs, the PlainTransports' ports]. */
export function splitRange(
  min: number,
  max: number,
): { ffmpeg: [number, number]; worker: [number, number] } {
  const mid = min + Math.floor((max - min) / 2);
  return { ffmpeg: [min, mid], worker: [mid + 1, max] };
}
