import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { createRoom, rejectCode, sleep, trackBots } from './bot.ts';

// Signaling-level media tests against the real mediasoup worker: bots create WebRTC
// transports and produce with hand-written RTP parameters; mediasoup builds real
// producers/consumers (no RTP flows — the browser tests cover the media path).

describe('media signaling (real worker)', () => {
  let s: TestServer;
  const { bot, closeAll } = trackBots(() => s.wsUrl);
  const room = (name: string) => createRoom(s.wsUrl, name);
  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    closeAll();
    await s.stop();
  });

  test('transports: loopback UDP+TCP candidates, ICE restart, one per direction', async () => {
    const a = await bot(await room('Transports'), 'a');
    const t = await a.client.request('media.createTransport', { direction: 'send' });
    assert.ok(t.iceCandidates.length >= 2);
    assert.ok(t.iceCandidates.every((c) => c.address === '127.0.0.1'));
    assert.deepEqual([...new Set(t.iceCandidates.map((c) => c.protocol))].sort(), ['tcp', 'udp']);
    assert.equal(
      t.iceCandidates.find((c) => c.protocol === 'udp')!.priority >
        t.iceCandidates.find((c) => c.protocol === 'tcp')!.priority,
      true,
    );
    const tcp = await a.client.request('media.createTransport', {
      direction: 'recv',
      forceTcp: true,
    });
    assert.deepEqual([...new Set(tcp.iceCandidates.map((c) => c.protocol))], ['tcp']);
    const { iceParameters } = await a.client.request('media.restartIce', { transportId: t.id });
    assert.notEqual(iceParameters.usernameFragment, t.iceParameters.usernameFragment);
    // A second send transport replaces the first.
    await a.client.request('media.createTransport', { direction: 'send' });
    assert.equal(
      await rejectCode(a.client.request('media.restartIce', { transportId: t.id })),
      'NOT_FOUND',
    );
    assert.equal(
      await rejectCode(
        a.client.request('media.connectTransport', {
          transportId: tcp.id,
          dtlsParameters: { role: 'client', fingerprints: [] },
        }),
      ),
      'INVALID_REQUEST',
    );
  });

  test('N:M produce/consume: everyone consumes everyone else, paused-first then resumed', async () => {
    const id = await room('Mesh');
    const a = await bot(id, 'a');
    const b = await bot(id, 'b');
    await a.setupMedia();
    await b.setupMedia();
    const aMic = await a.produce('mic');
    const aCam = await a.produce('camera');
    const bMic = await b.produce('mic');
    // c joins later: consumes the existing producers on media.ready.
    const c = await bot(id, 'c');
    await c.setupMedia();

    const bGot = await b.waitConsumers(2);
    assert.deepEqual(bGot.map((x) => x.producerId).sort(), [aMic, aCam].sort());
    const cam = bGot.find((x) => x.producerId === aCam)!;
    assert.equal(cam.type, 'simulcast');
    assert.equal(cam.source, 'camera');
    assert.equal(cam.peerId, a.join.self.id);
    assert.equal(cam.kind, 'video');
    const aGot = await a.waitConsumers(1);
    assert.equal(aGot[0]!.producerId, bMic);
    const cGot = await c.waitConsumers(3);
    assert.deepEqual(cGot.map((x) => x.producerId).sort(), [aMic, aCam, bMic].sort());
    assert.ok(
      a.consumers.every((x) => x.peerId !== a.join.self.id),
      'nobody consumes themselves',
    );

    // The server resumes consumers once answered; stats show them as not paused.
    await sleep(100);
    const camConsumer = cGot.find((x) => x.producerId === aCam)!;
    const stats = await c.client.request('media.getStats', {
      kind: 'consumer',
      id: camConsumer.id,
    });
    assert.ok(Array.isArray(stats.stats));
    await c.client.request('media.setConsumerPreferredLayers', {
      consumerId: camConsumer.id,
      spatialLayer: 0,
      temporalLayer: 0,
    });
    await c.client.request('media.pauseConsumer', { consumerId: camConsumer.id });
    await c.client.request('media.resumeConsumer', { consumerId: camConsumer.id });
    assert.equal(
      await rejectCode(c.client.request('media.pauseConsumer', { consumerId: 'not-mine' })),
      'NOT_FOUND',
    );
    assert.equal(
      await rejectCode(b.client.request('media.pauseConsumer', { consumerId: camConsumer.id })),
      'NOT_FOUND',
    );

    // Peer states are visible to everyone.
    const upd = await c.client.request('lobby.subscribe', {});
    assert.equal(upd.rooms.find((r) => r.id === id)?.peers, 3);
    // Re-sending ready does not duplicate consumers.
    await c.client.request('media.ready', { rtpCapabilities: c.join.routerRtpCapabilities });
    await sleep(200);
    assert.equal(c.consumers.length, 3);
  });

  test('media.ready before the recv transport exists: consumers arrive once it is created', async () => {
    const id = await room('Ready first');
    const a = await bot(id, 'a');
    await a.setupMedia();
    const mic = await a.produce('mic');
    const b = await bot(id, 'b');
    await b.client.request('media.ready', { rtpCapabilities: b.join.routerRtpCapabilities });
    await sleep(100);
    assert.equal(b.consumers.length, 0);
    await b.client.request('media.createTransport', { direction: 'recv' });
    const [got] = await b.waitConsumers(1);
    assert.equal(got!.producerId, mic);
    // Replacing the recv transport re-creates the consumers on the new one.
    await b.client.request('media.createTransport', { direction: 'recv' });
    const [, again] = await b.waitConsumers(2);
    assert.equal(again!.producerId, mic);
    assert.notEqual(again!.id, got!.id);
  });

  test('mute = producer pause/resume, visible to all; close producer → consumerClosed', async () => {
    const id = await room('Mute');
    const a = await bot(id, 'a');
    const b = await bot(id, 'b');
    await a.setupMedia();
    await b.setupMedia();
    const mic = await a.produce('mic');
    const on = await b.client.nextNotification(
      'room.peerUpdated',
      (d) => d.peer.id === a.join.self.id && d.peer.mic === 'on',
    );
    assert.equal(on.peer.camera, 'none');
    const [consumer] = await b.waitConsumers(1);

    await a.client.request('media.pauseProducer', { producerId: mic });
    await b.client.nextNotification(
      'room.peerUpdated',
      (d) => d.peer.id === a.join.self.id && d.peer.mic === 'off',
    );
    await a.client.nextNotification(
      'room.peerUpdated',
      (d) => d.peer.id === a.join.self.id && d.peer.mic === 'off',
    );
    assert.deepEqual(await b.client.nextNotification('media.consumerPaused'), {
      consumerId: consumer!.id,
    });

    await a.client.request('media.resumeProducer', { producerId: mic });
    await b.client.nextNotification(
      'room.peerUpdated',
      (d) => d.peer.id === a.join.self.id && d.peer.mic === 'on',
    );
    assert.deepEqual(await b.client.nextNotification('media.consumerResumed'), {
      consumerId: consumer!.id,
    });

    // A producer created paused shows as 'off' and its consumer says producerPaused.
    const cam = await a.produce('camera', true);
    await b.client.nextNotification('room.peerUpdated', (d) => d.peer.camera === 'off');
    const [, camConsumer] = await b.waitConsumers(2);
    assert.equal(camConsumer!.producerPaused, true);

    await a.client.request('media.closeProducer', { producerId: cam });
    assert.deepEqual(await b.client.nextNotification('media.consumerClosed'), {
      consumerId: camConsumer!.id,
    });
    await b.client.nextNotification('room.peerUpdated', (d) => d.peer.camera === 'none');
    assert.equal(
      await rejectCode(b.client.request('media.pauseProducer', { producerId: mic })),
      'NOT_FOUND',
    );

    // Leaving closes the leaver's producers for the others.
    a.client.close();
    assert.deepEqual(await b.client.nextNotification('media.consumerClosed'), {
      consumerId: consumer!.id,
    });
    await b.client.nextNotification('room.peerLeft');
  });

  test('screen share: video + audio, several sharers at once; kind/source mismatch refused', async () => {
    const id = await room('Screens');
    const a = await bot(id, 'a');
    const b = await bot(id, 'b');
    const c = await bot(id, 'c');
    for (const x of [a, b, c]) await x.setupMedia();
    await a.produce('screen');
    await a.produce('screen-audio');
    await b.produce('screen');
    await c.client.nextNotification(
      'room.peerUpdated',
      (d) => d.peer.id === a.join.self.id && d.peer.screen,
    );
    await c.client.nextNotification(
      'room.peerUpdated',
      (d) => d.peer.id === b.join.self.id && d.peer.screen,
    );
    const got = await c.waitConsumers(3);
    assert.deepEqual(got.map((x) => x.source).sort(), ['screen', 'screen', 'screen-audio']);
    const bad = a.client.request('media.produce', {
      transportId: a.sendTransportId,
      kind: 'audio',
      source: 'camera',
      rtpParameters: {} as never,
    });
    assert.equal(await rejectCode(bad), 'INVALID_REQUEST');
    const recvAsSend = a.client.request('media.produce', {
      transportId: a.recvTransportId,
      kind: 'audio',
      source: 'mic',
      rtpParameters: {} as never,
    });
    assert.equal(await rejectCode(recvAsSend), 'INVALID_REQUEST');
    const garbage = a.client.request('media.produce', {
      transportId: a.sendTransportId,
      kind: 'audio',
      source: 'mic',
      rtpParameters: { codecs: 'nope' } as never,
    });
    assert.equal(await rejectCode(garbage), 'INVALID_REQUEST');
  });
});

describe('worker crash (own server)', () => {
  test('kill -9 the worker: pool replaces it, peers get media.restart and re-establish media', async () => {
    const s = await startTestServer();
    const bots = trackBots(() => s.wsUrl);
    try {
      const roomId = await createRoom(s.wsUrl, 'Crash');
      const a = await bots.bot(roomId, 'a');
      const b = await bots.bot(roomId, 'b');
      await a.setupMedia();
      await b.setupMedia();
      await a.produce('mic');
      await b.waitConsumers(1);

      const health = async () =>
        (await (await fetch(`${s.url}/api/health/detail`)).json()) as {
          status: string;
          workers: { pid: number; alive: boolean; routers: number }[];
        };
      const before = await health();
      const deadPid = before.workers[0]!.pid;
      assert.equal(before.workers[0]!.routers, 1);
      process.kill(deadPid, 'SIGKILL');

      await a.client.nextNotification('media.restart', undefined, 15_000);
      await b.client.nextNotification('media.restart', undefined, 15_000);
      const after = await health();
      assert.equal(after.status, 'ok');
      assert.equal(after.workers.length, 1);
      assert.notEqual(after.workers[0]!.pid, deadPid);
      assert.equal(after.workers[0]!.alive, true);
      assert.equal(
        after.workers[0]!.routers,
        1,
        'the room re-created its router on the new worker',
      );

      // Nobody rejoins: both redo their transports and media flows through the new router.
      const consumersBefore = b.consumers.length;
      await a.setupMedia();
      await b.setupMedia();
      const mic = await a.produce('mic');
      const got = await b.waitConsumers(consumersBefore + 1, 5000);
      assert.equal(got[consumersBefore]!.producerId, mic);
      await b.client.nextNotification(
        'room.peerUpdated',
        (d) => d.peer.id === a.join.self.id && d.peer.mic === 'on',
      );
      // Still the same members.
      const list = await b.client.request('lobby.subscribe', {});
      assert.equal(list.rooms.find((r) => r.id === roomId)?.peers, 2);
    } finally {
      bots.closeAll();
      await s.stop();
    }
  });
});
