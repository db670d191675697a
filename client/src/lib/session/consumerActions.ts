import type { MediaClient } from '../media/MediaClient.ts';

/** What a remote tile asks of its consumer: pause while hidden, a layer that fits its size. */
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
}
