/**
 * Remote video elements made when a consumer is created, before any tile exists.
 *
 * A `<video>` given a MediaStream spends several main-thread tasks loading (the media
 * element's resource selection, then its player) and then shows the *next* frame decoded
 * after that. Made by the tile at its first render, that came 60–140 ms after the first key
 * frame was already decoded (a Chromium trace of a link join, docs/benchmarks.md). Made
 * here, detached, at consume time, the element loads while ICE and DTLS are under way and
 * holds the current frame; the tile adopts it (`takeVideo`), so the frame is on screen at the
 * tile's first paint. An element nobody takes is released with its consumer, or after
 * `UNCLAIMED_MS`.
 */

/** How long an element waits for its tile (a consumer never shown: hidden, or no view). */
const UNCLAIMED_MS = 10_000;

interface Held {
  readonly video: HTMLVideoElement;
  readonly timer: ReturnType<typeof setTimeout>;
}

const held = new Map<MediaStreamTrack, Held>();

/** A muted, inline, autoplaying video element playing `track`. */
export function videoFor(track: MediaStreamTrack): HTMLVideoElement {
  const video = document.createElement('video');
  video.autoplay = true;
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  video.play().catch(() => undefined);
  return video;
}

/** Starts loading an element for a remote video track (no-op outside a page). */
export function prepareVideo(track: MediaStreamTrack): void {
  if (track.kind !== 'video' || held.has(track) || typeof document === 'undefined') return;
  const timer = setTimeout(() => releaseVideo(track), UNCLAIMED_MS);
  held.set(track, { video: videoFor(track), timer });
}

/** The element made for `track`, handed over once (null: none was made, or it was taken). */
export function takeVideo(track: MediaStreamTrack): HTMLVideoElement | null {
  const entry = held.get(track);
  if (!entry) return null;
  held.delete(track);
  clearTimeout(entry.timer);
  return entry.video;
}

/** Stops and forgets the element made for `track`, if nobody took it. */
export function releaseVideo(track: MediaStreamTrack): void {
  const video = takeVideo(track);
  if (video) video.srcObject = null;
}
