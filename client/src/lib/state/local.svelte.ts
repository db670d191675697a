import type { MediaSource } from '@tutti/protocol';
import { SvelteMap } from 'svelte/reactivity';
import { storage } from '../storage.ts';

/** 'off' = producing but paused (muted / camera off); 'none' = not producing. */
export type LocalState = 'on' | 'off' | 'none';

export type MediaStatus = 'starting' | 'ready' | 'restarting' | 'failed';

/** One source we send (mic, camera, screen, screen-audio). */
export interface LocalSource {
  state: 'on' | 'off';
  /** The track we preview; null while the camera is off (its capture is stopped). */
  track: MediaStreamTrack | null;
  /** The server-side producer, null while there is no send transport (restart, rejoin). */
  producerId: string | null;
}

/**
 * Our own media, keyed by source: the single truth for our mic/camera/screen state (the
 * members store's `self` only echoes what the server last announced). Also the media
 * connection's status, producer scores and the chosen speaker. Shape: docs/client.md.
 */
export class LocalMediaStore {
  readonly sources = new SvelteMap<MediaSource, LocalSource>();
  /** Producer score by producer id (`media.producerScore`). */
  readonly producerScores = new SvelteMap<string, number>();
  status = $state<MediaStatus>('starting');
  /** The audio output device for remote audio (null = the browser's default). */
  speakerId = $state<string | null>(storage.device('audiooutput'));

  readonly mic = $derived<LocalState>(this.sources.get('mic')?.state ?? 'none');
  readonly camera = $derived<LocalState>(this.sources.get('camera')?.state ?? 'none');
  readonly screen = $derived(this.sources.has('screen'));
  readonly cameraTrack = $derived(
    this.camera === 'on' ? (this.sources.get('camera')?.track ?? null) : null,
  );
  readonly screenTrack = $derived(this.sources.get('screen')?.track ?? null);

  /** Scores of the producers we have now (the self tile's quality). */
  get scores(): number[] {
    const out: number[] = [];
    for (const s of this.sources.values()) {
      const score = s.producerId ? this.producerScores.get(s.producerId) : undefined;
      if (score !== undefined) out.push(score);
    }
    return out;
  }

  set(source: MediaSource, value: LocalSource | null): void {
    if (value) this.sources.set(source, value);
    else this.sources.delete(source);
  }

  /** A new capture for a source that keeps its state (device switch, camera on again). */
  setTrack(source: MediaSource, track: MediaStreamTrack | null): void {
    const current = this.sources.get(source);
    if (current) this.sources.set(source, { ...current, track });
  }
}
