import type { MediaClient } from '../media/MediaClient.ts';

/**
 * What a remote tile asks of its consumer: pause while hidden, a layer that fits its size;
 * and what it tells: its first frame was shown.
 */
export class ConsumerActions {
  constructor(private readonly media: MediaClient) {}

  setVisible(consumerId: string, visible: boolean): Promise<void> {
    return this.media.pauseConsumer(consumerId, !visible);
  }

  /** Simulcast layer for a tile `px` device pixels wide (≤360 → 0, ≤760 → 1, else 2). */
  fitWidth(consumerId: string, px: number): Promise<void> {
    const layer = px <= 360 ? 0 : px <= 760 ? 1 : 2;
    return this.media.setPreferredLayers(consumerId, layer);
  }

  /** A remote tile showed its first frame. */
  frameShown(): void {
    this.media.firstFrame.shown();
  }

  /** Resolves once a remote tile showed a frame, at most after timeoutMs. */
  firstFrame(timeoutMs: number): Promise<void> {
    return this.media.firstFrame.wait(timeoutMs);
  }
}
