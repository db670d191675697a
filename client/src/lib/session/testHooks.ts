import type { MediaSource } from '@tutti/protocol';
import type { MediaClient } from '../media/MediaClient.ts';
import { iceSummary } from '../media/iceStats.ts';
import type { MembersStore } from '../state/members.svelte.ts';
import type { RemoteTrack, TracksStore } from '../state/tracks.svelte.ts';
import type { ModerationActions } from './moderation.ts';

declare global {
  interface Window {
    __tutti?: {
      /** The remote tracks (hidden-tiles looks up the consumer behind a tile). */
      session: { readonly tracks: RemoteTrack[] };
      inboundBytes(kind: 'audio' | 'video'): Promise<number>;
      inboundBytesByPeer(kind: 'audio' | 'video'): Promise<Record<string, number>>;
      selfId(): string;
      producerPaused(source: MediaSource): boolean | null;
      restarts(): number;
      /** Transport, ICE and consumer states, for a browser test's failure message. */
      diagnostics(): Promise<Record<string, unknown>>;
      /** Sends a moderator's mute as this member (a participant's attempt shows the refusal). */
      tryMute(peerId: string): Promise<void>;
    };
  }
}

/** Test hooks: e2e tests read RTP statistics and producer state through these. */
export function exposeForTests(
  media: MediaClient,
  members: MembersStore,
  tracks: TracksStore,
  moderation: ModerationActions,
): void {
  window.__tutti = {
    session: {
      get tracks() {
        return tracks.all;
      },
    },
    inboundBytes: (kind) => media.inboundBytes(kind),
    inboundBytesByPeer: (kind) => media.inboundBytesByPeer(kind),
    selfId: () => members.self.id,
    producerPaused: (source) => {
      const p = media.producers.get(source);
      return p ? p.paused : null;
    },
    restarts: () => media.restarts,
    tryMute: (peerId) => moderation.mute(peerId),
    diagnostics: async () => ({
      recv: media.recvTransport?.connectionState ?? null,
      send: media.sendTransport?.connectionState ?? null,
      recvIce: media.recvTransport ? await iceSummary(media.recvTransport) : null,
      restarts: media.restarts,
      consumers: [...media.consumers.values()].map((c) => ({
        kind: c.kind,
        paused: c.paused,
        track: c.track.readyState,
        muted: c.track.muted,
      })),
      tiles: tracks.all.length,
    }),
  };
}
