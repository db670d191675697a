import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RtpCapabilities } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import {
  botRtpCapabilities,
  PublisherBot,
  SubscriberBot,
  type NewConsumer,
} from '../../../test/load/bots.ts';
import { ProtooPeer } from '../../../test/load/protoo.ts';
import { loadOpusFixture, loadVp8Fixture } from '../../../test/load/rtp.ts';
import { ensureRoom, TuttiSignaling } from '../../../test/load/signaling.ts';

// The one-reply join (issue 12, docs/protocol.md `room.join` `media`): with the lobby's router
// capabilities a client's room.join answer brings its recv transport and a resumed consumer
// of every producer already in the room — real worker, node-datachannel bots, RTP counted.
// The old sequence (room.join, media.createTransport, media.ready, media.newConsumer) still
// works beside it.
const HOST = '127.0.15.1';
const bot = (name: string) => ({ name, bindAddress: HOST });
let s: TestServer;
let roomId: string;
let publisher: PublisherBot;
const closers: (() => void)[] = [];

before(async () => {
  s = await startTestServer({ server: { host: HOST }, media: { listenIp: HOST } });
  roomId = await ensureRoom(s.wsUrl, 'one-reply join');
  publisher = new PublisherBot(
    await TuttiSignaling.join(s.wsUrl, roomId, 'Publisher'),
    { video: loadVp8Fixture(), audio: loadOpusFixture() },
    bot('Publisher'),
  );
  closers.push(() => publisher.close());
  await publisher.start();
});
after(async () => {
  for (const close of closers.splice(0)) close();
  await s.stop();
});

async function lobbyCapabilities(): Promise<RtpCapabilities> {
  const peer = await ProtooPeer.connect(s.wsUrl);
  try {
    const { routerRtpCapabilities } = await peer.request('lobby.subscribe', {});
    assert.ok(routerRtpCapabilities, 'lobby.subscribe tells the router capabilities');
    return routerRtpCapabilities;
  } finally {
    peer.close();
  }
}

/** Counts media.newConsumer requests the subscriber gets (and still answers them). */
function countOffers(sig: TuttiSignaling): NewConsumer[] {
  const offers: NewConsumer[] = [];
  const onNewConsumer = sig.onNewConsumer.bind(sig);
  sig.onNewConsumer = (handler) =>
    onNewConsumer(async (c) => {
      offers.push(c);
      await handler(c);
    });
  return offers;
}

/** The publisher's offers among `offers` (a later publisher of another test may be there). */
function ofPublisher(offers: NewConsumer[]): NewConsumer[] {
  return offers.filter((o) => publisher.producerIds.includes(o.producerId));
}

/** Waits until every stream whose mid is given received ≥ 30 RTP packets. */
async function untilFlowing(sub: SubscriberBot, mids: string[], what: string): Promise<void> {
  const packets = () => mids.map((mid) => sub.streams.get(mid)?.stats.packets ?? 0);
  const deadline = Date.now() + 15_000;
  while (packets().some((n) => n < 30)) {
    assert.ok(Date.now() < deadline, `${what}: RTP per stream ${packets().join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('one-reply join: the answer brings the recv transport and a resumed consumer per producer; RTP flows with no media.ready or media.newConsumer', async () => {
  const lobbyCaps = await lobbyCapabilities();
  const { sig, joined } = await TuttiSignaling.joinWithMedia(s.wsUrl, roomId, 'Fast', {
    transports: ['recv'],
    rtpCapabilities: botRtpCapabilities('none'),
  });
  assert.deepEqual(joined.routerRtpCapabilities, lobbyCaps, 'the lobby told the same router');
  const media = joined.media;
  assert.ok(media?.recv, 'the recv transport is in the answer');
  assert.equal(media.send, undefined, 'no send transport was asked for');
  assert.ok(media.consumers, 'consumers are in the answer');
  assert.deepEqual(
    media.consumers.map((c) => c.producerId).sort(),
    [...publisher.producerIds].sort(),
    'one consumer per producer already in the room',
  );
  assert.deepEqual(media.consumers.map((c) => c.kind).sort(), ['audio', 'video']);

  const offers = countOffers(sig);
  const sub = new SubscriberBot(sig, bot('Fast'), 'none');
  closers.push(() => sub.close());
  await sub.start(performance.now(), { transport: media.recv, consumers: media.consumers });
  const mids = media.consumers.map((c) => c.rtpParameters.mid ?? '');
  await untilFlowing(sub, mids, 'consumers of the join answer');
  assert.equal(offers.length, 0, 'nothing came as media.newConsumer');

  // A producer that appears later still comes as media.newConsumer, as before.
  const late = new PublisherBot(
    await TuttiSignaling.join(s.wsUrl, roomId, 'Late'),
    { video: undefined, audio: loadOpusFixture() },
    bot('Late'),
  );
  closers.push(() => late.close());
  await late.start();
  const deadline = Date.now() + 10_000;
  while (offers.length === 0) {
    assert.ok(Date.now() < deadline, 'the later producer is offered with media.newConsumer');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(
    offers.map((o) => o.producerId),
    late.producerIds,
  );
  await untilFlowing(sub, [offers[0]!.rtpParameters.mid ?? ''], 'the later producer');
  late.close();
});

test('room.join with transports but no capabilities: transports in the answer, no consumers; media.ready then consumes', async () => {
  const { sig, joined } = await TuttiSignaling.joinWithMedia(s.wsUrl, roomId, 'Half', {
    transports: ['recv', 'send'],
  });
  assert.ok(joined.media?.recv && joined.media.send, 'both transports');
  assert.notEqual(joined.media.recv.id, joined.media.send.id);
  assert.equal(joined.media.consumers, undefined, 'no capabilities, no consumers');
  const offers = countOffers(sig);
  const sub = new SubscriberBot(sig, bot('Half'), 'none');
  closers.push(() => sub.close());
  // The recv transport of the answer, then media.ready: consumers come as media.newConsumer.
  await sub.start(performance.now(), { transport: joined.media.recv, consumers: [] });
  await sig.ready(sub.rtpCapabilities);
  const deadline = Date.now() + 10_000;
  while (ofPublisher(offers).length < publisher.producerIds.length) {
    assert.ok(Date.now() < deadline, `offers after media.ready: ${offers.length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await untilFlowing(
    sub,
    ofPublisher(offers).map((o) => o.rtpParameters.mid ?? ''),
    'consumers after media.ready',
  );
});

test('the old flow still works: room.join without media, createTransport, media.ready, media.newConsumer', async () => {
  const sig = await TuttiSignaling.join(s.wsUrl, roomId, 'Classic');
  const offers = countOffers(sig);
  const sub = new SubscriberBot(sig, bot('Classic'), 'none');
  closers.push(() => sub.close());
  await sub.start();
  const deadline = Date.now() + 10_000;
  while (ofPublisher(offers).length < publisher.producerIds.length) {
    assert.ok(Date.now() < deadline, `offers: ${offers.length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await untilFlowing(
    sub,
    ofPublisher(offers).map((o) => o.rtpParameters.mid ?? ''),
    'consumers of the old flow',
  );
});
