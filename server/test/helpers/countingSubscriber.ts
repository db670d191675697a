import { SubscriberBot, type NewConsumer } from '../../../test/load/bots.ts';
import { TuttiSignaling } from '../../../test/load/signaling.ts';

export interface CountingSubscriber {
  /** RTP packets received so far of a producer (0 until its consumer was offered). */
  packets(producerId: string): number;
  /** Told a consumer of the producer closed (media.consumerClosed), this one or an earlier. */
  closed(producerId: string): boolean;
  /** What it was told of the producer's consumers, in order: paused (true), resumed (false). */
  pauses(producerId: string): boolean[];
  close(): void;
}

/**
 * A WebRTC subscriber bot (node-datachannel) joined to a room through `wsUrl`, which keeps
 * its consumer offers so that what it receives, and what it is told of them, is kept per
 * producer.
 */
export async function countingSubscriber(
  wsUrl: string,
  roomId: string,
  name: string,
  bindAddress: string,
): Promise<CountingSubscriber> {
  const sig = await TuttiSignaling.join(wsUrl, roomId, name);
  const offers = new Map<string, NewConsumer>();
  /** Consumer id → its producer's (every consumer offered, not only the latest). */
  const producerOf = new Map<string, string>();
  const onNewConsumer = sig.onNewConsumer.bind(sig);
  sig.onNewConsumer = (handler) =>
    onNewConsumer(async (c) => {
      offers.set(c.producerId, c);
      producerOf.set(c.id, c.producerId);
      await handler(c);
    });
  const closed = new Set<string>();
  const pauses = new Map<string, boolean[]>();
  const told = (consumerId: string, paused: boolean) => {
    const producerId = producerOf.get(consumerId);
    if (producerId) pauses.set(producerId, [...(pauses.get(producerId) ?? []), paused]);
  };
  sig.peer.on('media.consumerClosed', (d) => {
    const producerId = producerOf.get(d.consumerId);
    if (producerId) closed.add(producerId);
  });
  sig.peer.on('media.consumerPaused', (d) => told(d.consumerId, true));
  sig.peer.on('media.consumerResumed', (d) => told(d.consumerId, false));
  const bot = new SubscriberBot(sig, { name, bindAddress }, 'none');
  await bot.start();
  return {
    packets(producerId) {
      const mid = offers.get(producerId)?.rtpParameters.mid;
      return mid === undefined ? 0 : (bot.streams.get(mid)?.stats.packets ?? 0);
    },
    closed: (producerId) => closed.has(producerId),
    pauses: (producerId) => pauses.get(producerId) ?? [],
    close: () => bot.close(),
  };
}
