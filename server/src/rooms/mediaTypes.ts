import type { MediaKind } from 'mediasoup/types';
import type { MediaSource, PeerInfo } from '@tutti/protocol';

// The appData every mediasoup object of a member carries (the leak tests read `peerId`).

export type Direction = 'send' | 'recv';

export interface TransportAppData extends Record<string, unknown> {
  direction: Direction;
  peerId: string;
}

export interface ProducerAppData extends Record<string, unknown> {
  source: MediaSource;
  peerId: string;
  /** Set on a producer piped in from another node (its member lives there). */
  originNode?: string;
}

export interface ConsumerAppData extends Record<string, unknown> {
  source: MediaSource;
  /** The member whose producer this consumes. */
  peerId: string;
  producerId: string;
}

/** What a source must be: a mic is audio, a camera video… */
export const SOURCE_KIND: Record<MediaSource, MediaKind> = {
  mic: 'audio',
  camera: 'video',
  screen: 'video',
  'screen-audio': 'audio',
};

/** A member's media as the others see it (derived from its producers). */
export type MediaPresence = Pick<PeerInfo, 'mic' | 'camera' | 'screen'>;

export const NO_MEDIA: MediaPresence = { mic: 'none', camera: 'none', screen: false };
