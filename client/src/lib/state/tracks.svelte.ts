import type { MediaSource } from '@tutti/protocol';
import { SvelteMap } from 'svelte/reactivity';

/** One remote track we receive (a mediasoup consumer), as the views need it. */
export interface RemoteTrack {
  consumerId: string;
  peerId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  track: MediaStreamTrack;
  /** The producer is paused (sender muted). */
  producerPaused: boolean;
  score: number | null;
  spatialLayer: number | null;
  temporalLayer: number | null;
}

/** What a consumer notification may change about a track. */
export type TrackPatch = Partial<
  Pick<RemoteTrack, 'producerPaused' | 'score' | 'spatialLayer' | 'temporalLayer'>
>;

/** How many patches for consumers not added yet are kept (the newest). */
const EARLY_PATCHES = 64;

/**
 * Remote tracks keyed by consumer id. Entries are replaced, never mutated, so a view that
 * reads one track re-renders only when that track changes. Shape: docs/client.md.
 */
export class TracksStore {
  readonly byId = new SvelteMap<string, RemoteTrack>();
  /**
   * Patches for a consumer not added yet, applied when it is: a one-reply join's consumers
   * are the server's from its answer on, so their pause, score and layer notifications may
   * come while the page is still making them.
   */
  readonly #early = new Map<string, TrackPatch>();

  /** Every track, in the order they arrived. */
  readonly all = $derived([...this.byId.values()]);
  readonly audio = $derived(this.all.filter((t) => t.kind === 'audio'));

  ofPeer(peerId: string): RemoteTrack[] {
    return this.all.filter((t) => t.peerId === peerId);
  }

  add(track: Omit<RemoteTrack, 'score' | 'spatialLayer' | 'temporalLayer'>): void {
    const early = this.#early.get(track.consumerId);
    this.#early.delete(track.consumerId);
    this.byId.delete(track.consumerId);
    this.byId.set(track.consumerId, {
      ...track,
      score: null,
      spatialLayer: null,
      temporalLayer: null,
      ...early,
    });
  }

  patch(consumerId: string, patch: TrackPatch): void {
    const track = this.byId.get(consumerId);
    if (track) {
      this.byId.set(consumerId, { ...track, ...patch });
      return;
    }
    const merged = { ...this.#early.get(consumerId), ...patch };
    this.#early.delete(consumerId);
    this.#early.set(consumerId, merged);
    if (this.#early.size > EARLY_PATCHES) this.#early.delete(this.#early.keys().next().value!);
  }

  remove(consumerId: string): void {
    this.byId.delete(consumerId);
    this.#early.delete(consumerId);
  }

  removePeer(peerId: string): void {
    for (const t of this.all) if (t.peerId === peerId) this.byId.delete(t.consumerId);
  }

  clear(): void {
    this.byId.clear();
    this.#early.clear();
  }
}
