import { after, before, describe, test } from 'node:test';
import type { NotificationMap } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { PublisherBot, SubscriberBot } from '../../../test/load/bots.ts';
import { loadVp8Fixture } from '../../../test/load/rtp.ts';
import { ensureRoom, TuttiSignaling } from '../../../test/load/signaling.ts';
import { sleep, until } from '../../../test/helpers/waits.ts';

// A consumer is told its score once the client has it. mediasoup emits a consumer's 'score'
// only when it changes: a subscriber joining a producer whose score has settled (a steady
// stream; a pipe producer made earlier for someone else) heard nothing — the CI failure of
// multiRouter's "scores cross the pipe". Real worker, real RTP (node-datachannel bots); the
// subscriber sends no RTCP feedback, so its consumer's own score never changes either.

const BIND = { bindAddress: '127.0.0.1' };

describe('consumer scores (real RTP)', () => {
  let s: TestServer;
  const closers: (() => void)[] = [];

  before(async () => {
    s = await startTestServer({ media: { numWorkers: 1 } });
  });
  after(async () => {
    for (const close of closers) close();
    await sleep(300); // DTLS close alerts, then libdatachannel's threads go.
    await s.stop();
  });

  test("a subscriber of a steady producer is told the producer's score when it gets the consumer", async () => {
    const roomId = await ensureRoom(s.wsUrl, 'Scores');
    const pubSig = await TuttiSignaling.join(s.wsUrl, roomId, 'pub');
    const producerScores: number[] = [];
    pubSig.peer.on('media.producerScore', (d: NotificationMap['media.producerScore']) =>
      producerScores.push(d.score),
    );
    const pub = new PublisherBot(
      pubSig,
      { video: loadVp8Fixture(), audio: undefined },
      { name: 'pub', ...BIND },
    );
    closers.push(() => pub.close());
    await pub.start();
    // The producer's score has settled: it will not change while the stream stays clean.
    await until("the producer's score", () => producerScores.some((x) => x > 0), 10_000);
    await sleep(1500);

    const subSig = await TuttiSignaling.join(s.wsUrl, roomId, 'sub');
    const answered = new Map<string, number>();
    const onNewConsumer = subSig.onNewConsumer.bind(subSig);
    subSig.onNewConsumer = (handler) =>
      onNewConsumer(async (c) => {
        await handler(c);
        answered.set(c.id, Date.now());
      });
    const told: NotificationMap['media.consumerScore'][] = [];
    subSig.peer.on('media.consumerScore', (d: NotificationMap['media.consumerScore']) =>
      told.push(d),
    );
    const sub = new SubscriberBot(subSig, { name: 'sub', ...BIND }, 'none');
    closers.push(() => sub.close());
    await sub.start();
    await until('the consumer answered', () => answered.size === 1, 10_000);
    const [consumerId] = [...answered.keys()];
    await until(
      "the consumer's score, right after its answer",
      () => told.some((d) => d.consumerId === consumerId && d.producerScore > 0),
      1000,
    );
  });
});
