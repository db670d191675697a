import { SubscriberBot, type NewConsumer } from '../../../test/load/bots.ts';
import { TuttiSignaling } from '../../../test/load/signaling.ts';

export interface CountingSubscriber {
  /** RTP packets received so far of a producer (0 until its consumer was offered). */
  packets(producerId: string): number;
  close(): void;
}

/**
 * A WebRTC subscriber bot (node-datachannel) joined to a room through `wsUrl`, which keeps
 * its consumer offers so that what it receives is counted per producer.
 */
export async function countingSubscriber(
  wsUrl: string,
  roomId: string,
  name: string,
  bindAddress: string,
): Promise<CountingSubscriber> {
  const sig = await TuttiSignaling.join(wsUrl, roomId, name);
  const offers = new Map<string, NewConsumer>();
  const onNewConsumer = sig.onNewConsumer.bind(sig);
  sig.onNewConsumer = (handler) =>
    onNewConsumer(async (c) => {
      offers.set(c.producerId, c);
      await handler(c);
    });
  const bot = new SubscriberBot(sig, { name, bindAddress }, 'none');
  await bot.start();
  return {
    packets(producerId) {
      const mid = offers.get(producerId)?.rtpParameters.mid;
      return mid === undefined ? 0 : (bot.streams.get(mid)?.stats.packets ?? 0);
    },
    close: () => bot.close(),
  };
}
