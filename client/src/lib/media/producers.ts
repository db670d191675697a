import type { Device, types } from 'mediasoup-client';
import type { MediaSource } from '@tutti/protocol';
import type { E2ee } from '../e2ee/E2ee.ts';
import type { Signaling } from '../signaling.ts';
import { describe } from './errors.ts';
import type { LocalSource, MediaEvents, Producer, Transport } from './types.ts';

/** Camera simulcast: three spatial layers, lowest first. */
const CAMERA_SIMULCAST: RTCRtpEncodingParameters[] = [
  { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

/** Whether the device's preferred video codec can send simulcast (VP8, H264). */
export function canSimulcast(device: Device | null): boolean {
  const codecs = device?.rtpCapabilities.codecs ?? [];
  const video = codecs.find((c) => c.kind === 'video');
  return !!video && /vp8|h264/i.test(video.mimeType);
}

/** What the producers need of the client: the current send transport and device. */
export interface SendSide {
  readonly sendTransport: Transport | null;
  readonly device: Device | null;
  /** An E2EE room's crypto: every sender is encrypted before its first frame. */
  readonly e2ee: E2ee | null;
}

/**
 * Local tracks by source and the producers sending them. Producers are created with
 * stopTracks:false, so the tracks outlive a transport rebuild and `reproduce()` sends the
 * very same ones again.
 */
export class Producers {
  readonly bySource = new Map<MediaSource, Producer>();
  /** Local tracks by source; survive transport rebuilds. */
  readonly local = new Map<MediaSource, LocalSource>();

  constructor(
    private readonly signaling: Signaling,
    private readonly events: MediaEvents,
    private readonly side: SendSide,
  ) {}

  async #produce(source: MediaSource, track: MediaStreamTrack, paused: boolean): Promise<void> {
    const transport = this.side.sendTransport;
    if (!transport) throw new Error('cannot send media');
    const old = this.bySource.get(source);
    if (old) {
      old.close();
      this.bySource.delete(source);
    }
    const options: types.ProducerOptions = {
      track,
      stopTracks: false,
      appData: { source, paused },
    };
    const e2ee = this.side.e2ee;
    if (e2ee)
      options.onRtpSender = (sender) => e2ee.encrypt(sender, track.kind as 'audio' | 'video');
    if (source === 'camera' && canSimulcast(this.side.device)) {
      options.encodings = CAMERA_SIMULCAST.map((e) => ({ ...e }));
      options.codecOptions = { videoGoogleStartBitrate: 1000 };
    } else if (source === 'screen') {
      options.encodings = [{ maxBitrate: 2_500_000 }];
    } else if (source === 'mic') {
      options.codecOptions = { opusStereo: false, opusDtx: true, opusFec: true };
    }
    const producer = await transport.produce(options);
    if (paused) producer.pause();
    this.bySource.set(source, producer);
    producer.on('transportclose', () => {
      if (this.bySource.get(source) === producer) this.bySource.delete(source);
    });
    producer.on('trackended', () => {
      void this.stopSource(source);
    });
    this.events.producerChanged(source, { paused, id: producer.id });
  }

  /** After a transport rebuild: sends every live local track again, one after the other. */
  async reproduce(): Promise<void> {
    for (const [source, local] of [...this.local]) {
      if (local.track.readyState === 'live') {
        await this.#produce(source, local.track, local.paused).catch((err: unknown) =>
          this.events.error(`Could not send ${source}: ${describe(err)}`),
        );
      } else {
        this.local.delete(source);
      }
    }
  }

  /** Starts sending a new local track for a source (replacing any previous one). */
  async publish(source: MediaSource, track: MediaStreamTrack, paused = false): Promise<void> {
    const previous = this.local.get(source);
    if (previous && previous.track !== track) previous.track.stop();
    this.local.set(source, { track, paused });
    if (!this.side.sendTransport) return;
    await this.#produce(source, track, paused);
  }

  /** Stops a source completely (track stopped, producer closed on both sides). */
  async stopSource(source: MediaSource): Promise<void> {
    const local = this.local.get(source);
    this.local.delete(source);
    local?.track.stop();
    const producer = this.bySource.get(source);
    if (!producer) {
      this.events.producerChanged(source, null);
      return;
    }
    this.bySource.delete(source);
    producer.close();
    this.events.producerChanged(source, null);
    await this.signaling
      .request('media.closeProducer', { producerId: producer.id })
      .catch(() => undefined);
  }

  /** Mute/unmute: pause the producer locally and on the server. */
  async setPaused(source: MediaSource, paused: boolean): Promise<void> {
    const local = this.local.get(source);
    if (local) local.paused = paused;
    const producer = this.bySource.get(source);
    if (!producer) return;
    if (paused) {
      producer.pause();
      await this.signaling.request('media.pauseProducer', { producerId: producer.id });
    } else {
      producer.resume();
      try {
        await this.signaling.request('media.resumeProducer', { producerId: producer.id });
      } catch (err) {
        // Refused (a moderator holds the mic): stay muted on both sides.
        producer.pause();
        if (local) local.paused = true;
        throw err;
      }
    }
    this.events.producerChanged(source, { paused, id: producer.id });
  }

  /** Swaps the track of a source (device change) without renegotiation. */
  async replaceTrack(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    const local = this.local.get(source);
    if (local && local.track !== track) local.track.stop();
    this.local.set(source, { track, paused: local?.paused ?? false });
    const producer = this.bySource.get(source);
    if (producer) await producer.replaceTrack({ track });
    else if (this.side.sendTransport) await this.#produce(source, track, local?.paused ?? false);
  }

  /** Closes every producer (the local tracks stay, for `reproduce()`). */
  closeAll(): void {
    for (const [source, producer] of this.bySource) {
      producer.close();
      this.events.producerChanged(source, null);
    }
    this.bySource.clear();
  }

  /** Stops and forgets every local track. */
  stopLocal(): void {
    for (const { track } of this.local.values()) track.stop();
    this.local.clear();
  }
}
