import type { types } from 'mediasoup-client';
import type { MediaSource } from '@tutti/protocol';

export type Transport = types.Transport;
export type Producer = types.Producer;
export type Consumer = types.Consumer;

export interface ConsumerInfo {
  id: string;
  peerId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  track: MediaStreamTrack;
  producerPaused: boolean;
}

export interface MediaEvents {
  consumerAdded(info: ConsumerInfo): void;
  consumerRemoved(consumerId: string): void;
  /** A local producer appeared, changed pause state or went away (null). */
  producerChanged(source: MediaSource, state: { paused: boolean; id: string } | null): void;
  error(message: string): void;
  /** A transport's ICE never started, even after a restart: rebuild the media. */
  stalled(): void;
}

export interface LayerPreference {
  spatialLayer: number;
  temporalLayer?: number;
}

/** A local track and whether it is muted; kept across transport rebuilds. */
export interface LocalSource {
  track: MediaStreamTrack;
  paused: boolean;
}
