import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gridCell } from '../../src/recording/composite.ts';
import { PortPool, splitRange } from '../../src/recording/portPool.ts';
import { containerFor, trackSdp } from '../../src/recording/sdp.ts';
import { recordingRequestSchemas } from '@tutti/protocol/schemas';

test('port pairs: even RTP ports, RTCP beside them, reused once released, refused when gone', () => {
  const pool = new PortPool(50001, 50008);
  const taken = [pool.take(), pool.take(), pool.take()];
  assert.deepEqual(taken, [50002, 50004, 50006]);
  assert.throws(() => pool.take(), { code: 'UNAVAILABLE' });
  pool.release(50004);
  assert.equal(pool.take(), 50004);
  assert.deepEqual(splitRange(51000, 51999), { ffmpeg: [51000, 51499], worker: [51500, 51999] });
});

test('the SDP ffmpeg reads names the consumer codec, its clock and format parameters', () => {
  const sdp = trackSdp(
    'video',
    {
      codecs: [
        {
          mimeType: 'video/H264',
          payloadType: 102,
          clockRate: 90000,
          parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' },
        },
      ],
    },
    '127.0.0.1',
    51000,
  );
  assert.match(sdp, /^m=video 51000 RTP\/AVP 102\r$/m);
  assert.match(sdp, /^a=rtpmap:102 H264\/90000\r$/m);
  assert.match(sdp, /^a=fmtp:102 packetization-mode=1;profile-level-id=42e01f\r$/m);
  const opus = trackSdp(
    'audio',
    { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }] },
    '127.0.0.1',
    51002,
  );
  assert.match(opus, /^a=rtpmap:100 opus\/48000\/2\r$/m);
  assert.equal(containerFor('video/VP8'), 'webm');
  assert.equal(containerFor('audio/opus'), 'webm');
  assert.equal(containerFor('video/H264'), 'mkv');
});

test('the composite grid: near-square, inside the canvas, no overlap', () => {
  for (const n of [1, 2, 3, 4, 5, 9, 10]) {
    const cells = Array.from({ length: n }, (_, i) => gridCell(i, n));
    for (const c of cells) {
      assert.ok(c.x + c.w <= 960 && c.y + c.h <= 540, `${n}: inside`);
      assert.equal(c.w % 2, 0);
      assert.equal(c.h % 2, 0);
    }
    const keys = new Set(cells.map((c) => `${c.x},${c.y}`));
    assert.equal(keys.size, n, `${n}: distinct cells`);
  }
});

test('recording requests take an optional owner secret and nothing else', () => {
  assert.ok(recordingRequestSchemas['recording.start'].safeParse({ ownerSecret: 's' }).success);
  // Owners and moderators by role send none.
  assert.ok(recordingRequestSchemas['recording.start'].safeParse({}).success);
  assert.ok(!recordingRequestSchemas['recording.start'].safeParse({ ownerSecret: 1 }).success);
  assert.ok(
    !recordingRequestSchemas['recording.stop'].safeParse({ ownerSecret: 's', x: 1 }).success,
  );
  assert.ok(recordingRequestSchemas['recording.list'].safeParse({}).success);
});
