import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { connectSignaling } from '../../../test/helpers/signalingClient.ts';
import { rejectCode, trackBots, vp8Params } from './bot.ts';

// An end-to-end encrypted room over the real signaling and worker: the flag is in the
// summary and survives a restart; VP8 and Opus are produced, anything else is refused.
let s: TestServer;
const { bot, closeAll } = trackBots(() => s.wsUrl);

before(async () => {
  s = await startTestServer();
});
after(async () => {
  closeAll();
  await s.stop();
});

test('an E2EE room takes VP8 and Opus only, and stays E2EE across a restart', async () => {
  const c = await connectSignaling(s.wsUrl);
  const { room } = await c.request('room.create', { name: 'Sealed', e2ee: true });
  const { room: plain } = await c.request('room.create', { name: 'Plain' });
  c.close();
  assert.equal(room.e2ee, true);
  assert.equal(plain.e2ee, false);

  const a = await bot(room.id, 'a');
  await a.setupMedia();
  assert.ok(await a.produce('mic'));
  assert.ok(await a.produce('camera'));
  const h264 = vp8Params('2', 1);
  h264.codecs[0] = {
    ...h264.codecs[0]!,
    mimeType: 'video/H264',
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' },
  };
  const refused = a.client.request('media.produce', {
    transportId: a.sendTransportId,
    kind: 'video',
    rtpParameters: h264,
    source: 'screen',
  });
  assert.equal(await rejectCode(refused), 'INVALID_REQUEST');

  closeAll();
  await s.restart();
  const listed = (await (await fetch(`${s.url}/api/rooms`)).json()) as {
    rooms: { id: string; e2ee: boolean }[];
  };
  assert.equal(listed.rooms.find((r) => r.id === room.id)?.e2ee, true);
  assert.equal(listed.rooms.find((r) => r.id === plain.id)?.e2ee, false);
});

test('recording and captions are refused in an E2EE room, even to its owner', async () => {
  const c = await connectSignaling(s.wsUrl);
  try {
    const { room, ownerSecret } = await c.request('room.create', { name: 'Sealed 2', e2ee: true });
    const joined = await c.request('room.join', {
      roomId: room.id,
      nickname: 'Owner',
      ownerSecret,
    });
    assert.equal(joined.self.role, 'owner');
    for (const refused of [
      () => c.request('recording.start', { ownerSecret }),
      () => c.request('captions.set', { enabled: true, ownerSecret }),
    ]) {
      const err = await refused().then(
        () => assert.fail('an E2EE room must refuse it'),
        (e: unknown) => e as Error,
      );
      assert.match(err.message, /^FORBIDDEN: .*end-to-end encrypted/);
    }
  } finally {
    c.close();
  }
});

test('key epochs: rotate and a leave move every member on; a newcomer is told; never in a plain room', async () => {
  const c = await connectSignaling(s.wsUrl);
  const { room } = await c.request('room.create', { name: 'Epochs', e2ee: true });
  const { room: plain } = await c.request('room.create', { name: 'Plain epochs' });
  c.close();
  const ann = await connectSignaling(s.wsUrl);
  const ben = await connectSignaling(s.wsUrl);
  const cid = await connectSignaling(s.wsUrl);
  try {
    assert.equal(
      (await ann.request('room.join', { roomId: room.id, nickname: 'Ann' })).e2eeEpoch,
      0,
    );
    await ben.request('room.join', { roomId: room.id, nickname: 'Ben' });
    assert.deepEqual(await ben.request('e2ee.rotate', {}), { epoch: 1 });
    for (const m of [ann, ben]) {
      assert.deepEqual(await m.nextNotification('e2ee.epoch'), { epoch: 1, reason: 'rotate' });
    }
    const joined = await cid.request('room.join', { roomId: room.id, nickname: 'Cid' });
    assert.equal(joined.e2eeEpoch, 1, 'a newcomer starts at the room’s epoch');
    await cid.request('room.leave', {});
    for (const m of [ann, ben]) {
      assert.deepEqual(await m.nextNotification('e2ee.epoch'), { epoch: 2, reason: 'left' });
    }
    // Data is refused (no key material, nothing else either).
    assert.equal(
      await rejectCode(ann.request('e2ee.rotate', { epoch: 9 } as never)),
      'INVALID_REQUEST',
    );
    const other = await cid.request('room.join', { roomId: plain.id, nickname: 'Cid' });
    assert.equal(other.e2eeEpoch, undefined);
    assert.equal(await rejectCode(cid.request('e2ee.rotate', {})), 'INVALID_REQUEST');
  } finally {
    for (const m of [ann, ben, cid]) m.close();
  }
});
