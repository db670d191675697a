import type {
  Consumer,
  ConsumerScore,
  Producer,
  RtpCapabilities,
  WebRtcTransport,
} from 'mediasoup/types';
import type { NewConsumer } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import { watchConsumer } from './downlinkGuard.ts';
import type { ConsumerAppData, ProducerAppData, TransportAppData } from './mediaTypes.ts';
import type { MemberChannel } from './ports.ts';

/** Where a new consumer goes: one member's recv transport, consumers and channel. */
export interface ConsumeTarget {
  channel: MemberChannel;
  log: Logger;
  transport: WebRtcTransport<TransportAppData>;
  rtpCapabilities: RtpCapabilities;
  /** The member's consumers (of this media generation): the new one is added here. */
  consumers: Map<string, Consumer<ConsumerAppData>>;
  /** Whether the member is still inside with the same media generation (after every await). */
  isCurrent(): boolean;
}

/**
 * How an offer reaches the client; settles once the client has the consumer (rejects: it
 * refused). The default asks `media.newConsumer`; a one-reply join puts it in its answer.
 */
export type DeliverConsumer = (offer: NewConsumer) => Promise<unknown>;

/**
 * Runs `consume` with `deliver` and settles once the offer was handed to `deliver` or the
 * attempt ended (not when `deliver` settles): what a one-reply join waits for.
 */
export function handedOn(
  consume: (deliver: DeliverConsumer) => Promise<void>,
  deliver: DeliverConsumer,
  log: Logger,
): Promise<void> {
  return new Promise<void>((done) => {
    const handOn: DeliverConsumer = (offer) => {
      done();
      return deliver(offer);
    };
    consume(handOn)
      .catch((err: unknown) => log.error({ err }, 'could not create consumer'))
      .finally(done);
  });
}

/**
 * Creates a paused consumer of `producer`, offers it to the client (media.newConsumer) and
 * resumes it once the client answered, so its first RTP packet finds a consumer there
 * (mediasoup-demo's Peer.consume()). The client always hears of the origin producer's id.
 * Never throws: a refusal or a race is logged.
 */
export async function offerConsumer(
  target: ConsumeTarget,
  producer: Producer<ProducerAppData>,
  /** The id to consume on the target's router: a pipe producer's may differ (same worker). */
  localProducerId = producer.id,
  deliver: DeliverConsumer = (offer) => target.channel.request('media.newConsumer', offer),
): Promise<void> {
  const { channel, consumers, log } = target;
  let consumer: Consumer<ConsumerAppData>;
  try {
    consumer = await target.transport.consume<ConsumerAppData>({
      producerId: localProducerId,
      rtpCapabilities: target.rtpCapabilities,
      paused: true,
      enableRtx: true,
      ignoreDtx: true,
      appData: {
        source: producer.appData.source,
        peerId: producer.appData.peerId,
        producerId: producer.id,
      },
    });
  } catch (err) {
    log.warn({ err }, 'consume failed');
    return;
  }
  if (!target.isCurrent() || producer.closed || target.transport.closed) {
    // The consumer left/re-joined, the producer closed or the recv transport was replaced
    // while we were consuming it.
    consumer.close();
    return;
  }
  consumers.set(consumer.id, consumer);
  watchConsumer(target.transport, consumer, producer);
  /**
   * Until the client answered media.newConsumer it has no consumer with this id (its
   * recvTransport.consume() is still running) and would drop notifications about it:
   * a close or a pause/resume of the producer in that window is told after the answer.
   */
  let answered = false;
  let closedUnanswered = false;
  const tellClosed = () => {
    if (target.isCurrent())
      void channel.notify('media.consumerClosed', { consumerId: consumer.id });
  };
  const gone = (notify: boolean) => {
    if (!consumers.delete(consumer.id)) return;
    if (!notify) return;
    if (answered) tellClosed();
    else closedUnanswered = true;
  };
  consumer.on('transportclose', () => gone(false));
  consumer.on('producerclose', () => gone(true));
  consumer.observer.once('close', () => gone(false));
  consumer.on('producerpause', () => {
    if (answered) void channel.notify('media.consumerPaused', { consumerId: consumer.id });
  });
  consumer.on('producerresume', () => {
    if (answered) void channel.notify('media.consumerResumed', { consumerId: consumer.id });
  });
  consumer.on('score', (s) => tellScore(channel, consumer, s));
  consumer.on(
    'layerschange',
    (layers) =>
      void channel.notify('media.consumerLayersChanged', {
        consumerId: consumer.id,
        spatialLayer: layers?.spatialLayer ?? null,
        temporalLayer: layers?.temporalLayer ?? null,
      }),
  );

  const announcedPaused = consumer.producerPaused;
  try {
    await deliver({
      id: consumer.id,
      producerId: producer.id,
      peerId: producer.appData.peerId,
      kind: consumer.kind,
      source: producer.appData.source,
      rtpParameters: consumer.rtpParameters,
      type: consumer.type,
      producerPaused: announcedPaused,
    });
    answered = true;
    if (closedUnanswered) {
      tellClosed();
      return;
    }
    if (consumer.closed) return;
    if (consumer.producerPaused !== announcedPaused) {
      void channel.notify(
        consumer.producerPaused ? 'media.consumerPaused' : 'media.consumerResumed',
        { consumerId: consumer.id },
      );
    }
    await consumer.resume();
    // mediasoup reports a score only when it changes: a steady producer (a pipe producer
    // settled before this consumer existed) would never be scored, so tell it as it stands.
    const now = consumer.score;
    if (now.score > 0 || now.producerScore > 0) tellScore(channel, consumer, now);
  } catch (err) {
    // Either the client refused it, or the producer went away while we were waiting
    // (resume then fails). In the latter case the client has it and must drop it.
    log.debug({ err }, 'consumer not started');
    const wasOurs = consumers.has(consumer.id);
    if (!consumer.closed) consumer.close();
    gone(false);
    if (answered && wasOurs) tellClosed();
  }
}

/** media.consumerScore: the consumer's own score and its producer's (0–10). */
function tellScore(
  channel: MemberChannel,
  consumer: Consumer<ConsumerAppData>,
  { score, producerScore }: ConsumerScore,
): void {
  if (consumer.closed) return;
  void channel.notify('media.consumerScore', { consumerId: consumer.id, score, producerScore });
}
