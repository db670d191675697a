import type { NewConsumer } from '@tutti/protocol';
import type { E2ee } from '../e2ee/E2ee.ts';
import type { Signaling } from '../signaling.ts';
import type { Consumer, MediaEvents, Transport } from './types.ts';
import { prepareVideo, releaseVideo } from './videoSinks.ts';
import { fromServer } from './wire.ts';

/** What the consumers need of the client's lifecycle. */
export interface ReceiveSide {
  /** Changes on every reset: a consumer begun in an older generation is dropped. */
  generation(): number;
  /** True once the client left. */
  closed(): boolean;
  /** The recv transport, waiting for it while start() creates it; null after a reset. */
  recvTransportReady(): Promise<Transport | null>;
  /** An E2EE room's crypto: every receiver decrypts from its first frame. */
  e2ee(): E2ee | null;
}

/**
 * Remote media: answers `media.newConsumer` with a local consumer, pauses and resumes
 * consumers, asks for simulcast layers, and drops consumers when they close.
 */
export class Consumers {
  readonly byId = new Map<string, Consumer>();
  #preferredLayers = new Map<string, number>();
  /**
   * Ids being consumed now, and those of them the server closed meanwhile: a one-reply
   * join's consumers are the server's from its answer on, so their `media.consumerClosed`
   * may come before they are ours (a share stopped as we join) and must not be lost.
   */
  readonly #consuming = new Set<string>();
  readonly #closedEarly = new Set<string>();

  constructor(
    private readonly signaling: Signaling,
    private readonly events: MediaEvents,
    private readonly side: ReceiveSide,
  ) {
    signaling.handle('media.newConsumer', async (data) => {
      // Asked again after a resume (the first answer was lost with the old socket).
      if (this.byId.has(data.id)) return {};
      await this.#consume(data);
      return {};
    });
  }

  /**
   * The consumers of a one-reply join's answer (already resumed on the server): created on
   * the recv transport now. One that fails is paused on the server (nothing would play it).
   */
  consumeAll(offers: readonly NewConsumer[]): Promise<void> {
    const one = (data: NewConsumer): Promise<void> =>
      this.byId.has(data.id)
        ? Promise.resolve()
        : this.#consume(data).catch(() => {
            void this.signaling
              .request('media.pauseConsumer', { consumerId: data.id })
              .catch(() => undefined);
          });
    return Promise.all(offers.map(one)).then(() => undefined);
  }

  async #consume(data: NewConsumer): Promise<void> {
    this.#consuming.add(data.id);
    try {
      await this.#consumeOne(data);
    } finally {
      this.#consuming.delete(data.id);
      this.#closedEarly.delete(data.id);
    }
  }

  async #consumeOne(data: NewConsumer): Promise<void> {
    const generation = this.side.generation();
    // media.ready may be answered (and consumers sent) before our createTransport
    // response is handled: wait for the recv transport of this generation.
    const recv = await this.side.recvTransportReady();
    if (!recv || generation !== this.side.generation()) throw new Error('no receive transport');
    const e2ee = this.side.e2ee();
    const consumer = await recv.consume({
      id: data.id,
      producerId: data.producerId,
      kind: data.kind,
      rtpParameters: fromServer(data.rtpParameters),
      appData: { peerId: data.peerId, source: data.source },
      ...(e2ee && {
        onRtpReceiver: (receiver: RTCRtpReceiver) =>
          e2ee.decrypt(receiver, data.kind, data.peerId, data.id),
      }),
    });
    if (generation !== this.side.generation() || this.side.closed()) {
      consumer.close();
      throw new Error('media restarted');
    }
    if (this.#closedEarly.has(consumer.id)) {
      consumer.close(); // Its producer went while we made it: nothing to show.
      return;
    }
    this.byId.set(consumer.id, consumer);
    // Its element starts loading now, while ICE and DTLS are under way (videoSinks.ts).
    if (consumer.kind === 'video') prepareVideo(consumer.track);
    consumer.on('transportclose', () => this.drop(consumer.id));
    consumer.on('trackended', () => this.drop(consumer.id));
    this.events.consumerAdded({
      id: consumer.id,
      peerId: data.peerId,
      kind: data.kind,
      source: data.source,
      track: consumer.track,
      producerPaused: data.producerPaused,
    });
  }

  async pause(consumerId: string, paused: boolean): Promise<void> {
    const consumer = this.byId.get(consumerId);
    if (!consumer || consumer.closed || consumer.paused === paused) return;
    if (paused) consumer.pause();
    else consumer.resume();
    await this.signaling
      .request(paused ? 'media.pauseConsumer' : 'media.resumeConsumer', { consumerId })
      .catch(() => undefined);
  }

  async setPreferredLayers(consumerId: string, spatialLayer: number): Promise<void> {
    if (this.#preferredLayers.get(consumerId) === spatialLayer) return;
    const consumer = this.byId.get(consumerId);
    if (!consumer || consumer.closed) return;
    this.#preferredLayers.set(consumerId, spatialLayer);
    await this.signaling
      .request('media.setConsumerPreferredLayers', { consumerId, spatialLayer })
      .catch(() => this.#preferredLayers.delete(consumerId));
  }

  /** Closes a consumer locally and tells the store it is gone. */
  drop(consumerId: string): void {
    const consumer = this.byId.get(consumerId);
    if (!consumer) {
      if (this.#consuming.has(consumerId)) this.#closedEarly.add(consumerId);
      return;
    }
    this.byId.delete(consumerId);
    releaseVideo(consumer.track);
    this.#preferredLayers.delete(consumerId);
    this.side.e2ee()?.forget(consumerId);
    if (!consumer.closed) consumer.close();
    this.events.consumerRemoved(consumerId);
  }

  dropAll(): void {
    for (const id of [...this.byId.keys()]) this.drop(id);
    this.#preferredLayers.clear();
  }

  /** Inbound bytes per sending peer for a kind (tests check one sender went quiet). */
  async inboundBytesByPeer(kind: 'audio' | 'video'): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const consumer of this.byId.values()) {
      if (consumer.kind !== kind || consumer.closed) continue;
      const peerId = String(consumer.appData['peerId']);
      const report = await consumer.getStats();
      report.forEach((s: { type?: string; bytesReceived?: number }) => {
        if (s.type === 'inbound-rtp') out[peerId] = (out[peerId] ?? 0) + (s.bytesReceived ?? 0);
      });
    }
    return out;
  }
}
