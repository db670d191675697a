import type { MediaSource } from '@tutti/protocol';
import { describe } from '../media/errors.ts';
import type { MediaClient } from '../media/MediaClient.ts';
import type { LocalMediaStore, LocalState } from '../state/local.svelte.ts';
import type { NoticesStore } from '../state/notices.svelte.ts';
import { storage } from '../storage.ts';
import { captureCamera, captureExactMic, captureMic, captureScreen, discard } from './capture.ts';

export type DeviceKind = 'audioinput' | 'videoinput' | 'audiooutput';

/**
 * What the controls and the device picker do with our own media: mic/camera/screen on and
 * off, device switches (remembered in localStorage). Keeps the local media store in step
 * with the MediaClient's producers.
 */
export class DeviceActions {
  constructor(
    private readonly media: MediaClient,
    private readonly local: LocalMediaStore,
    private readonly notices: NoticesStore,
    private readonly ended: () => boolean,
  ) {}

  /** MediaClient event: a producer appeared, changed pause state or went away (null). */
  producerChanged(source: MediaSource, producer: { paused: boolean; id: string } | null): void {
    const capture = this.media.local.get(source);
    const paused = producer ? producer.paused : capture?.paused;
    if (paused === undefined) {
      this.local.set(source, null);
      return;
    }
    const state = paused ? 'off' : 'on';
    this.local.set(source, {
      state,
      track: capture?.track ?? null,
      producerId: producer?.id ?? null,
    });
  }

  /** Turns the microphone on; `capture` is a capture already under way. */
  enableMic(capture?: Promise<MediaStreamTrack>): Promise<void> {
    return this.#enable('mic', capture);
  }

  /** Turns the camera on; `capture` is a capture already under way. */
  enableCamera(capture?: Promise<MediaStreamTrack>): Promise<void> {
    return this.#enable('camera', capture);
  }

  async #enable(source: 'mic' | 'camera', capture?: Promise<MediaStreamTrack>): Promise<void> {
    const [kind, what] =
      source === 'mic' ? (['audio', 'Microphone'] as const) : (['video', 'Camera'] as const);
    if (!this.media.device?.canProduce(kind)) return discard(capture);
    try {
      const track = await (capture ?? (source === 'mic' ? captureMic() : captureCamera()));
      if (this.ended()) return track.stop();
      await this.media.publish(source, track, false);
    } catch (err) {
      this.notices.showError(`${what} unavailable: ${describe(err)}`);
    }
  }

  async toggleMic(): Promise<void> {
    const mic: LocalState = this.local.mic;
    if (mic === 'none') return this.enableMic();
    await this.media
      .setPaused('mic', mic === 'on')
      .catch((err: unknown) => this.notices.showError(describe(err)));
  }

  async toggleCamera(): Promise<void> {
    // Camera off = producer paused + capture stopped (so the camera light goes off);
    // on again = a fresh capture swapped in with replaceTrack, then resumed.
    try {
      const camera = this.local.camera;
      if (camera === 'none') return await this.enableCamera();
      if (camera === 'on') {
        await this.media.setPaused('camera', true);
        this.media.local.get('camera')?.track.stop();
        this.local.setTrack('camera', null);
      } else {
        const track = await captureCamera();
        await this.media.replaceTrack('camera', track);
        await this.media.setPaused('camera', false);
      }
    } catch (err) {
      this.notices.showError(`Camera: ${describe(err)}`);
    }
  }

  async toggleScreen(): Promise<void> {
    if (this.local.screen) {
      await this.media.stopSource('screen');
      await this.media.stopSource('screen-audio');
      return;
    }
    try {
      const { video, audio } = await captureScreen();
      if (!video) return;
      await this.media.publish('screen', video, false);
      if (audio) await this.media.publish('screen-audio', audio, false);
    } catch (err) {
      if (err instanceof DOMException && err.name === 'NotAllowedError') return;
      this.notices.showError(`Screen sharing failed: ${describe(err)}`);
    }
  }

  /** The device in use for a kind (the picker's selection). */
  current(kind: DeviceKind): string {
    if (kind === 'audiooutput') return this.local.speakerId ?? 'default';
    const source = kind === 'audioinput' ? 'mic' : 'camera';
    const track = this.media.local.get(source)?.track;
    return track?.getSettings().deviceId ?? storage.device(kind) ?? '';
  }

  async switchDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    storage.setDevice(kind, deviceId);
    try {
      if (kind === 'audiooutput') {
        this.local.speakerId = deviceId;
      } else if (kind === 'audioinput' && this.local.mic !== 'none') {
        const track = await captureExactMic(deviceId);
        if (track) {
          track.enabled = true;
          await this.media.replaceTrack('mic', track);
        }
      } else if (kind === 'videoinput' && this.local.camera === 'on') {
        const track = await captureCamera(deviceId);
        await this.media.replaceTrack('camera', track);
        this.local.setTrack('camera', track);
      }
    } catch (err) {
      this.notices.showError(`Could not switch device: ${describe(err)}`);
    }
  }
}
