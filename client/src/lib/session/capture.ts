import { storage } from '../storage.ts';

/** Browser capture: the constraints Tutti asks for, one track per call. */

export async function captureMic(
  deviceId = storage.device('audioinput'),
): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: deviceId ? { deviceId: { ideal: deviceId } } : true,
  });
  const track = stream.getAudioTracks()[0];
  if (!track) throw new Error('no microphone track');
  return track;
}

/** A microphone switch asks for exactly that device (no silent fallback to another). */
export async function captureExactMic(deviceId: string): Promise<MediaStreamTrack | null> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { deviceId: { exact: deviceId } },
  });
  return stream.getAudioTracks()[0] ?? null;
}

export async function captureCamera(
  deviceId = storage.device('videoinput'),
): Promise<MediaStreamTrack> {
  const height = storage.cameraHeight;
  const stream = await navigator.mediaDevices.getUserMedia({
    video: {
      ...(deviceId ? { deviceId: { ideal: deviceId } } : {}),
      height: { ideal: height },
      width: { ideal: Math.round((height * 16) / 9) },
      frameRate: { ideal: 24, max: 30 },
    },
  });
  const track = stream.getVideoTracks()[0];
  if (!track) throw new Error('no camera track');
  return track;
}

/** A screen (video, shown as detail) and, when the browser offers it, its audio. */
export async function captureScreen(): Promise<{
  video: MediaStreamTrack | undefined;
  audio: MediaStreamTrack | undefined;
}> {
  const stream = await navigator.mediaDevices.getDisplayMedia({
    video: { frameRate: { ideal: 15, max: 30 } },
    audio: true,
  });
  const video = stream.getVideoTracks()[0];
  if (video) video.contentHint = 'detail';
  return { video, audio: stream.getAudioTracks()[0] };
}

/** Marks a promise as handled (it is awaited later) so an early rejection is not reported. */
export function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Stops a capture that is no longer wanted, whenever it arrives. */
export function discard(capture: Promise<MediaStreamTrack> | null | undefined): void {
  void capture?.then(
    (t) => t.stop(),
    () => undefined,
  );
}
