import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodeOf } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { trackMedia, type MediaTracker } from '../helpers/mediaTracker.ts';
import { createRoom, opusParams, sleep, trackBots } from './bot.ts';

/** The stable code of a rejected Room call (TuttiError.code), or a description. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : `no code: ${String(err)}`;
  }
  return 'resolved';
}

// Requests racing each other on one connection (leave/join while media requests are in
// flight, duplicate produce/createTransport, the producer closing while the client is
// still creating its consumer). The mediasoup objects left open are counted through
// mediasoup's observer API: nothing may outlive the request that lost the race.

describe('races (real worker)', () => {
  let s: TestServer;
  let media: MediaTracker;
  const { bot, closeAll } = trackBots(() => s.wsUrl);
  const room = (name: string) => createRoom(s.wsUrl, name);
  before(async () => {
    media = trackMedia();
    s = await startTestServer();
  });
  after(async () => {
    closeAll();
    await s.stop();
    media.stop();
  });

  test('leave + rejoin while createTransport/produce are in flight: nothing leaks', async () => {
    const id = await room('Rejoin race');
    const stay = await bot(id, 'stay'); // keeps the router alive
    await stay.setupMedia();
    const a = await bot(id, 'a');
    await a.setupMedia();
    const self = a.join.self.id;

    const transport = a.client.request('media.createTransport', { direction: 'recv' });
    const produced = a.client.request('media.produce', {
      transportId: a.sendTransportId,
      kind: 'audio',
      rtpParameters: opusParams('0'),
      source: 'mic',
    });
    const left = a.client.request('room.leave', {});
    const rejoined = a.client.request('room.join', { roomId: id, nickname: 'a' });
    const results = await Promise.allSettled([transport, produced, left, rejoined]);
    assert.equal(results[2]!.status, 'fulfilled');
    assert.equal(results[3]!.status, 'fulfilled');
    await sleep(200);

    // The rejoined member starts with nothing: every object of the first membership is closed.
    const open = media.ofPeer(self);
    assert.deepEqual(
      open.transports.map((t) => t.appData.direction),
      [],
      'transports of the previous membership were left open',
    );
    assert.equal(open.producers.length, 0, 'a producer of the previous membership was left open');
    const info = (await a.client.request('lobby.subscribe', {})).rooms.find((r) => r.id === id);
    assert.equal(info?.peers, 2);

    // And media works normally for the new membership.
    await a.setupMedia();
    await a.produce('mic');
    await stay.waitConsumers(1);
    assert.equal(media.ofPeer(self).transports.length, 2);
  });

  test('the last member leaves while createTransport is in flight: NOT_JOINED, never INTERNAL', async () => {
    // Its router closes with it; the transport request that raced the leave (the soak
    // found it) must say the member is gone rather than fail with an internal error.
    const id = await room('Leave under createTransport');
    for (let i = 0; i < 6; i++) {
      const a = await bot(id, `alone${i}`);
      await a.setupMedia();
      const transport = a.client.request('media.createTransport', { direction: 'send' }).then(
        () => 'resolved',
        (err: unknown) => errorCodeOf(err) ?? String(err),
      );
      const left = a.client.request('room.leave', {});
      const [code] = await Promise.all([transport, left]);
      assert.ok(['resolved', 'NOT_JOINED'].includes(code), `createTransport answered ${code}`);
      a.client.close();
    }
    await sleep(200);
    const left = [...media.routers].filter((r) => r.appData.roomId === id && !r.closed);
    assert.equal(left.length, 0, 'the empty room keeps no router');
  });

  test('two produce requests for the same source at once: one producer survives', async () => {
    const id = await room('Double produce');
    const a = await bot(id, 'a');
    const b = await bot(id, 'b');
    await a.setupMedia();
    await b.setupMedia();
    // A quick device switch: the second mic (another m-section) before the first is answered.
    const mic = (mid: string) =>
      a.client.request('media.produce', {
        transportId: a.sendTransportId,
        kind: 'audio',
        rtpParameters: opusParams(mid),
        source: 'mic',
      });
    const results = await Promise.allSettled([mic('0'), mic('4')]);
    assert.ok(results.some((r) => r.status === 'fulfilled'));
    await sleep(200);
    const mics = media.ofPeer(a.join.self.id).producers.filter((p) => p.appData.source === 'mic');
    assert.equal(mics.length, 1, 'two mic producers of one peer are open');
    assert.equal(
      b.consumers.length -
        b.client.notifications.filter((n) => n.method === 'media.consumerClosed').length,
      1,
      'b must end up consuming exactly one mic of a',
    );
  });

  test('two createTransport requests for the same direction at once: one transport survives', async () => {
    const id = await room('Double transport');
    const a = await bot(id, 'a');
    await a.setupMedia();
    await Promise.all([
      a.client.request('media.createTransport', { direction: 'recv' }),
      a.client.request('media.createTransport', { direction: 'recv' }),
    ]);
    await sleep(100);
    const dirs = media
      .ofPeer(a.join.self.id)
      .transports.map((t) => t.appData.direction)
      .sort();
    assert.deepEqual(dirs, ['recv', 'send']);
  });

  /**
   * Two peers with media; b answers `media.newConsumer` slowly (as mediasoup-client's
   * recvTransport.consume() does), a produces a mic. Resolves once b has been asked.
   */
  async function slowConsumer(name: string) {
    const id = await room(name);
    const a = await bot(id, 'a');
    const b = await bot(id, 'b');
    await a.setupMedia();
    await b.setupMedia();
    let answeredAt = 0;
    let asked!: () => void;
    const askedP = new Promise<void>((r) => (asked = r));
    b.client.onRequest(async () => {
      asked();
      await sleep(300);
      answeredAt = Date.now();
      return {};
    });
    const mic = await a.produce('mic');
    await askedP;
    return { a, b, mic, answeredAt: () => answeredAt };
  }

  test('producer closed while the client is still creating its consumer: consumerClosed comes after the answer', async () => {
    const { a, b, mic, answeredAt } = await slowConsumer('Slow consumer');
    await a.client.request('media.closeProducer', { producerId: mic });
    await b.client.nextNotification('media.consumerClosed', undefined, 3000);
    const closed = b.client.notifications.find((n) => n.method === 'media.consumerClosed')!;
    assert.ok(answeredAt() > 0, 'consumerClosed arrived before the client answered newConsumer');
    assert.ok(closed.at >= answeredAt());
  });

  test('producer paused while the client is still creating its consumer: consumerPaused comes after the answer', async () => {
    const { a, b, mic, answeredAt } = await slowConsumer('Slow consumer, mute');
    await a.client.request('media.pauseProducer', { producerId: mic });
    await b.client.nextNotification('media.consumerPaused', undefined, 3000);
    const paused = b.client.notifications.find((n) => n.method === 'media.consumerPaused')!;
    assert.ok(answeredAt() > 0, 'consumerPaused arrived before the client answered newConsumer');
    assert.ok(paused.at >= answeredAt());
  });

  test('consumer closing mid-call: pause/resume/setConsumerPreferredLayers answer NOT_FOUND', async () => {
    const id = await room('Closing consumer');
    const a = await bot(id, 'a');
    const b = await bot(id, 'b');
    await a.setupMedia();
    await b.setupMedia();
    const r = s.app.tutti.rooms.get(id)!;
    const bMedia = r.member(b.join.self.id)!.media;
    const calls = {
      pause: (c: string) => bMedia.pauseConsumer(c),
      resume: (c: string) => bMedia.resumeConsumer(c),
      layers: (c: string) => bMedia.setConsumerPreferredLayers(c, 0, undefined),
    };
    let n = 0;
    for (const [name, call] of Object.entries(calls)) {
      const cam = await a.produce('camera');
      const [consumer] = (await b.waitConsumers(++n)).slice(-1);
      assert.equal(consumer!.producerId, cam);
      // The producer closes; the worker closes b's consumer, but the server learns that
      // only from the worker's notification: the call below still reaches the worker.
      r.member(a.join.self.id)!.media.closeProducer(cam);
      assert.equal(await codeOf(call(consumer!.id)), 'NOT_FOUND', name);
    }
  });
});

describe('worker dying mid-call', () => {
  test('pauseProducer/resumeProducer answer NOT_FOUND when the producer goes with its worker', async () => {
    const s = await startTestServer();
    const bots = trackBots(() => s.wsUrl);
    try {
      const roomId = await createRoom(s.wsUrl, 'Dying worker');
      const a = await bots.bot(roomId, 'a');
      await a.setupMedia();
      const mic = await a.produce('mic');
      const r = s.app.tutti.rooms.get(roomId)!;
      const pid = r.media.workerPid!;
      // Freeze the worker so the request is surely pending, then kill it.
      process.kill(pid, 'SIGSTOP');
      const paused = r.member(a.join.self.id)!.media.pauseProducer(mic);
      await sleep(50);
      process.kill(pid, 'SIGKILL');
      assert.equal(await codeOf(paused), 'NOT_FOUND');
    } finally {
      bots.closeAll();
      await s.stop();
    }
  });
});
