import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  RtpReceiveStats,
  RtpStream,
  hasKeyframeRequest,
  isRtcp,
  loadOpusFixture,
  loadVp8Fixture,
} from './rtp.ts';

test('the VP8 fixture is ~500 kbps, starts with a key frame and packetizes under the MTU', () => {
  const v = loadVp8Fixture();
  const kbps = (v.bytesPerLoop * 8) / v.loopMs;
  assert.ok(kbps > 400 && kbps < 650, `VP8 fixture is ${kbps.toFixed(0)} kbps`);
  assert.equal(v.packets[0]!.keyframeStart, true);
  assert.ok(v.packets.filter((p) => p.keyframeStart).length >= 3);
  assert.ok(v.packets.every((p) => p.payload.length <= 1101));
  assert.equal(v.packets.at(-1)!.marker, true);
});

test('the Opus fixture is 20 ms packets', () => {
  const a = loadOpusFixture();
  assert.ok(a.packets.length >= 400);
  assert.equal(a.loopMs, a.packets.length * 20);
  assert.ok(a.packets.every((p) => p.payload.length > 0 && p.payload.length < 400));
});

test('an RtpStream loops with continuous sequence numbers and timestamps', () => {
  const a = loadOpusFixture();
  const s = new RtpStream(a, 1234, 111);
  const out: Buffer[] = [];
  s.pump(a.loopMs * 2 + 100, (p) => out.push(p));
  assert.equal(out.length, a.packets.length * 2 + 6);
  for (let i = 1; i < out.length; i++) {
    assert.equal((out[i - 1]!.readUInt16BE(2) + 1) & 0xffff, out[i]!.readUInt16BE(2));
    assert.equal((out[i]!.readUInt32BE(4) - out[i - 1]!.readUInt32BE(4)) >>> 0, 960);
    assert.equal(out[i]!.readUInt32BE(8), 1234);
    assert.equal(out[i]![1]! & 0x7f, 111);
  }
});

test('a key frame request makes the next frame a key frame, timing unchanged', () => {
  const v = loadVp8Fixture();
  const s = new RtpStream(v, 99, 96);
  const out: Buffer[] = [];
  s.pump(500, (p) => out.push(p));
  const before = out.length;
  s.requestKeyframe();
  s.pump(540, (p) => out.push(p));
  const next = out[before]!;
  assert.equal(next[12]! & 0x10, 0x10, 'starts a frame');
  assert.equal(next[13]! & 0x01, 0, 'is a key frame');
  assert.equal(s.keyframeJumps, 1);
  // 90 kHz timestamps keep advancing by one frame (3000 ticks at 30 fps).
  const lastTs = out[before - 1]!.readUInt32BE(4);
  assert.equal((next.readUInt32BE(4) - lastTs) >>> 0, 3000);
});

test('forced key frames are at most one per 300 ms; a request in between waits', () => {
  const v = loadVp8Fixture();
  const s = new RtpStream(v, 7, 96);
  const sink = (): void => undefined;
  s.pump(100, sink);
  s.requestKeyframe();
  s.pump(200, sink);
  assert.equal(s.keyframeJumps, 1);
  s.requestKeyframe();
  s.requestKeyframe();
  s.pump(500, sink); // same wall-clock instant: still inside the 300 ms interval
  assert.equal(s.keyframeJumps, 1);
});

test('receive stats count loss from sequence gaps across the 16-bit wrap', () => {
  const r = new RtpReceiveStats();
  const pkt = (seq: number): Buffer => {
    const b = Buffer.alloc(20);
    b[0] = 0x80;
    b.writeUInt16BE(seq & 0xffff, 2);
    return b;
  };
  for (let s = 65530; s < 65546; s++) if (s !== 65537 && s !== 65540) r.onPacket(pkt(s), 0);
  assert.equal(r.expected, 16);
  assert.equal(r.packets, 14);
});

test('RTCP demux and PLI detection', () => {
  const pli = Buffer.from([0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
  const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]);
  assert.equal(isRtcp(pli), true);
  assert.equal(hasKeyframeRequest(Buffer.concat([rr, pli])), true);
  assert.equal(hasKeyframeRequest(rr), false);
  assert.equal(isRtcp(Buffer.from([0x80, 96, 0, 1])), false);
});

test('rtpTimestampAt tells the timestamp of any instant on the packets’ timeline (sender reports)', () => {
  const v = loadVp8Fixture();
  const s = new RtpStream(v, 5, 96);
  const sent: { atMs: number; ts: number }[] = [];
  // Pumped every 5 ms as the pacer does, with a key frame jump and across a loop.
  for (let t = 0; t <= v.loopMs + 400; t += 5) {
    if (t === 1000) s.requestKeyframe(performance.now() - 1000);
    s.pump(t, (p) => sent.push({ atMs: t, ts: p.readUInt32BE(4) }));
  }
  assert.ok(s.keyframeJumps >= 1);
  // A frame's packets go out in the 5 ms tick after its time: its timestamp is at most
  // 5 ms (450 ticks) behind the timestamp of the tick's instant, never ahead of it.
  for (const p of sent) {
    const behind = (s.rtpTimestampAt(p.atMs) - p.ts) | 0;
    assert.ok(behind >= 0 && behind <= 450, `packet ts ${p.ts} at ${p.atMs} ms: ${behind} ticks`);
  }
});
