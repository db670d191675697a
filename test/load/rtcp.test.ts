import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildNack,
  buildReceiverReport,
  buildSenderReport,
  buildTransportCc,
  forEachSenderReport,
  rtpPayloadOffset,
  transportWideSeq,
} from './rtcp.ts';
import { ChromeFeedback, unwrapSeq } from './feedback.ts';

/*
 * The builders are checked against decoders written here from the specs
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1, RFC 3550 6.4.2,
 * RFC 4585 6.2.1), not against the code under test.
 */

interface DecodedTcc {
  senderSsrc: number;
  mediaSsrc: number;
  baseSeq: number;
  refTime: number;
  fbCount: number;
  /** seq → arrival in 250 µs ticks (reference time × 256 + running sum of deltas). */
  arrivals: Map<number, number>;
  lost: number[];
}

function decodeTcc(b: Buffer): DecodedTcc {
  assert.equal(b[0]! >> 6, 2, 'version 2');
  assert.equal(b[0]! & 0x1f, 15, 'FMT 15');
  assert.equal(b[1], 205, 'RTPFB');
  assert.equal((b.readUInt16BE(2) + 1) * 4, b.length, 'length field');
  const baseSeq = b.readUInt16BE(12);
  const count = b.readUInt16BE(14);
  const refTime = b.readIntBE(16, 3);
  const symbols: number[] = [];
  let off = 20;
  while (symbols.length < count) {
    const c = b.readUInt16BE(off);
    off += 2;
    if ((c & 0x8000) === 0) {
      const sym = (c >> 13) & 3;
      const run = c & 0x1fff;
      assert.ok(run > 0 && symbols.length + run <= count, 'run length within the status count');
      for (let i = 0; i < run; i++) symbols.push(sym);
    } else if ((c & 0x4000) === 0) {
      for (let i = 13; i >= 0 && symbols.length < count; i--) symbols.push((c >> i) & 1);
    } else {
      for (let i = 6; i >= 0 && symbols.length < count; i--) symbols.push((c >> (2 * i)) & 3);
    }
  }
  const arrivals = new Map<number, number>();
  const lost: number[] = [];
  let t = refTime * 256;
  for (let i = 0; i < count; i++) {
    const seq = (baseSeq + i) & 0xffff;
    const sym = symbols[i]!;
    assert.notEqual(sym, 3, 'no reserved symbol');
    if (sym === 0) {
      lost.push(seq);
      continue;
    }
    t += sym === 1 ? b.readUInt8(off) : b.readInt16BE(off);
    off += sym === 1 ? 1 : 2;
    arrivals.set(seq, t);
  }
  assert.ok(b.length - off < 4, 'only padding after the deltas');
  for (let i = off; i < b.length; i++) assert.equal(b[i], 0, 'zero padding');
  return {
    senderSsrc: b.readUInt32BE(4),
    mediaSsrc: b.readUInt32BE(8),
    baseSeq,
    refTime,
    fbCount: b[19]!,
    arrivals,
    lost,
  };
}

function decodeNack(b: Buffer): { mediaSsrc: number; seqs: number[] } {
  assert.equal(b[0]! & 0x1f, 1);
  assert.equal(b[1], 205);
  assert.equal((b.readUInt16BE(2) + 1) * 4, b.length);
  const seqs: number[] = [];
  for (let off = 12; off < b.length; off += 4) {
    const pid = b.readUInt16BE(off);
    const blp = b.readUInt16BE(off + 2);
    seqs.push(pid);
    for (let i = 0; i < 16; i++) if (blp & (1 << i)) seqs.push((pid + i + 1) & 0xffff);
  }
  return { mediaSsrc: b.readUInt32BE(8), seqs };
}

/** Splits a compound RTCP packet into its packets. */
function splitRtcp(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off + 4 <= b.length;) {
    const len = (b.readUInt16BE(off + 2) + 1) * 4;
    out.push(b.subarray(off, off + len));
    off += len;
  }
  return out;
}

/** An RTP packet with a one-byte-header extension block holding the transport-wide seq. */
function rtp(o: { ssrc: number; seq: number; ts?: number; tcc?: number; extId?: number }): Buffer {
  const ext =
    o.tcc === undefined
      ? []
      : [0xbe, 0xde, 0, 1, ((o.extId ?? 5) << 4) | 1, o.tcc >> 8, o.tcc & 0xff, 0];
  const b = Buffer.alloc(12 + ext.length + 20);
  b[0] = 0x80 | (ext.length ? 0x10 : 0);
  b[1] = 96;
  b.writeUInt16BE(o.seq & 0xffff, 2);
  b.writeUInt32BE(o.ts ?? 0, 4);
  b.writeUInt32BE(o.ssrc, 8);
  Buffer.from(ext).copy(b, 12);
  return b;
}

test('transport-cc known vector: one-bit status vector, two small deltas', () => {
  const b = buildTransportCc({
    senderSsrc: 0x01020304,
    mediaSsrc: 0x0a0b0c0d,
    baseSeq: 1,
    fbCount: 7,
    arrivals: [2564, undefined, 2572],
  });
  assert.equal(
    b.toString('hex'),
    '8fcd0005' + '01020304' + '0a0b0c0d' + '00010003' + '00000a07' + 'a800' + '0408',
  );
});

test('transport-cc: run-length and vector chunks, large and negative deltas, seq wrap', () => {
  const arrivals: (number | undefined)[] = [];
  let t = 1_000_000;
  for (let i = 0; i < 300; i++) {
    if (i % 37 === 5 || (i >= 100 && i < 130))
      arrivals.push(undefined); // lost, and a long run lost
    else if (i === 200)
      arrivals.push((t -= 40)); // reordered: negative delta
    else if (i === 250)
      arrivals.push((t += 5000)); // > 64 ms gap: large delta
    else arrivals.push((t += i % 3));
  }
  const b = buildTransportCc({
    senderSsrc: 1,
    mediaSsrc: 2,
    baseSeq: 65500,
    fbCount: 300,
    arrivals,
  });
  const d = decodeTcc(b);
  assert.equal(d.baseSeq, 65500);
  assert.equal(d.fbCount, 300 & 0xff);
  assert.equal(d.refTime, Math.floor(arrivals[0]! / 256));
  for (const [i, at] of arrivals.entries()) {
    const seq = (65500 + i) & 0xffff;
    if (at === undefined) assert.ok(d.lost.includes(seq), `seq ${seq} lost`);
    else assert.equal(d.arrivals.get(seq), at, `seq ${seq} arrival`);
  }
  assert.ok(d.arrivals.has(0) && d.arrivals.has(65535), 'the range wraps through 0');
  // The long run of received packets compresses into run-length chunks: well under 2 bytes
  // of chunk per 7 packets.
  assert.ok(b.length < 20 + (300 / 7) * 2 + 300 + 20, `feedback is ${b.length} bytes`);
});

test('transport-cc: all received in one run, and a single packet', () => {
  const arrivals = Array.from({ length: 40 }, (_, i) => 512 + i * 3);
  const d = decodeTcc(
    buildTransportCc({ senderSsrc: 1, mediaSsrc: 2, baseSeq: 9, fbCount: 0, arrivals }),
  );
  assert.deepEqual([...d.arrivals.values()], arrivals);
  const one = decodeTcc(
    buildTransportCc({ senderSsrc: 1, mediaSsrc: 2, baseSeq: 0, fbCount: 1, arrivals: [77] }),
  );
  assert.deepEqual([...one.arrivals], [[0, 77]]);
});

test('generic NACK: PID + bitmask, across the sequence wrap', () => {
  const d = decodeNack(buildNack(1, 0xdeadbeef, [65534, 65535, 0, 5, 30]));
  assert.equal(d.mediaSsrc, 0xdeadbeef);
  assert.deepEqual(d.seqs, [65534, 65535, 0, 5, 30]);
  assert.equal(
    buildNack(1, 2, [65534, 65535, 0, 5, 30]).subarray(12).toString('hex'),
    'fffe0043001e0000',
  );
});

test('receiver report blocks', () => {
  const b = buildReceiverReport(0x11111111, [
    {
      ssrc: 5,
      fractionLost: 64,
      cumulativeLost: -3,
      extHighestSeq: 0x1fffe,
      jitter: 12.4,
      lsr: 0xabcd1234,
      dlsr: 65536,
    },
  ]);
  assert.equal(b.length, 32);
  assert.equal(b[0], 0x81);
  assert.equal(b[1], 201);
  assert.equal(b.readUInt16BE(2), 7);
  assert.equal(b.readUInt32BE(8), 5);
  assert.equal(b[12], 64);
  assert.equal(b.readIntBE(13, 3), -3);
  assert.equal(b.readUInt32BE(16), 0x1fffe);
  assert.equal(b.readUInt32BE(20), 12);
  assert.equal(b.readUInt32BE(24), 0xabcd1234);
  assert.equal(b.readUInt32BE(28), 65536);
});

test('header extension and payload offsets; sender report NTP', () => {
  const p = rtp({ ssrc: 1, seq: 1, tcc: 0xbeef, extId: 3 });
  assert.equal(transportWideSeq(p, 3), 0xbeef);
  assert.equal(transportWideSeq(p, 5), -1);
  assert.equal(rtpPayloadOffset(p), 20);
  const two = Buffer.from('900000010000000000000001100000010302abcd', 'hex'); // two-byte header, id 3
  assert.equal(transportWideSeq(two, 3), 0xabcd);
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  sr.writeUInt16BE(6, 2);
  sr.writeUInt32BE(42, 4);
  sr.writeUInt32BE(0x11223344, 8);
  sr.writeUInt32BE(0x55667788, 12);
  const seen: [number, number][] = [];
  forEachSenderReport(sr, (ssrc, mid) => seen.push([ssrc, mid]));
  assert.deepEqual(seen, [[42, 0x33445566]]);
  assert.equal(unwrapSeq(2, 0x1fffe), 0x20002);
  assert.equal(unwrapSeq(65534, 0x20001), 0x1fffe);
});

test('ChromeFeedback: transport-cc across the wrap, NACK for a gap (3 tries), RR with loss', () => {
  const out: Buffer[] = [];
  const fb = new ChromeFeedback((p) => (out.push(p), true));
  fb.tccExtId = 5;
  fb.addStream(1000, 90000, { nack: true, rtxSsrc: 2000 });
  fb.addStream(3000, 48000, { nack: false });
  let now = 0;
  let tcc = 65530;
  // Media seqs 65533..2 (wrapping); 65535 and 0 lost on the way, 0 recovered by RTX.
  for (const seq of [65533, 65534, 1, 2]) {
    now += 1;
    fb.onRtp(rtp({ ssrc: 1000, seq, ts: seq * 3000, tcc: tcc++ & 0xffff }), now);
  }
  fb.onRtp(rtp({ ssrc: 3000, seq: 10 }), now);
  fb.onRtp(rtp({ ssrc: 3000, seq: 20 }), now); // a gap on a stream without NACK
  const rtx = rtp({ ssrc: 2000, seq: 7, tcc: tcc & 0xffff });
  rtx.writeUInt16BE(0, 20); // OSN 0
  fb.onRtp(rtx, ++now);
  const parts = (): Buffer[] => out.splice(0).flatMap(splitRtcp);
  for (let i = 0; i < 4; i++) fb.tick(now, 0); // one feedback per 4 ticks
  const first = parts();
  const t = decodeTcc(first.find((p) => p[1] === 205 && (p[0]! & 0x1f) === 15)!);
  assert.equal(t.baseSeq, 65530);
  assert.deepEqual([...t.arrivals.keys()], [65530, 65531, 65532, 65533, 65534]);
  assert.deepEqual(t.lost, []);
  const nack = decodeNack(first.find((p) => p[1] === 205 && (p[0]! & 0x1f) === 1)!);
  assert.deepEqual(nack, { mediaSsrc: 1000, seqs: [65535] }, 'seq 0 came by RTX: not asked');
  assert.equal(
    first.filter((p) => p[1] === 205 && (p[0]! & 0x1f) === 1).length,
    1,
    'no NACK for audio',
  );
  assert.equal(fb.sent.rtxRecovered, 1);
  // Next feedback: nothing new for tcc; the NACK is retried; the third try is the last.
  for (let i = 0; i < 8; i++) fb.tick(now, 0);
  const later = parts();
  assert.equal(later.filter((p) => (p[0]! & 0x1f) === 15).length, 0);
  assert.equal(later.filter((p) => (p[0]! & 0x1f) === 1).length, 2);
  for (let i = 0; i < 4; i++) fb.tick(now, 0);
  assert.equal(parts().length, 0, 'no fourth NACK');
  // New packets after tcc seq 65535 → 0: feedback starts after the last one reported.
  fb.onRtp(rtp({ ssrc: 1000, seq: 3, tcc: 1 }), ++now);
  for (let i = 0; i < 4 * 6; i++) fb.tick(now, 0); // the RR comes every 10th feedback
  const rest = parts();
  const t2 = decodeTcc(rest.find((p) => (p[0]! & 0x1f) === 15)!);
  assert.equal(t2.baseSeq, 1, 'starts at the first packet received after the previous feedback');
  assert.equal(t2.fbCount, 1);
  const rr = rest.find((p) => p[1] === 201)!;
  assert.ok(rr, 'a receiver report');
  assert.equal(rr.readUInt32BE(8), 1000);
  assert.equal(rr.readIntBE(13, 3), 1, '65535 never arrived (0 came by RTX)');
  assert.equal(rr.readUInt32BE(16), 0x10003, 'one wrap: cycles 1, seq 3');
  assert.equal(rr[12], Math.floor(256 / 7));
});

test('sender report (RFC 3550 6.4.1): NTP time of a Unix instant, RTP timestamp, counts', () => {
  // 2026-01-01T00:00:00.250Z: NTP seconds = Unix seconds + 2 208 988 800, fraction 0.25 × 2^32.
  const wallMs = Date.UTC(2026, 0, 1) + 250;
  const b = buildSenderReport({
    ssrc: 0xdeadbeef,
    wallMs,
    rtpTimestamp: 0xfffffffe,
    packets: 7,
    octets: 7000,
  });
  assert.equal(b.length, 28);
  assert.equal(b[0], 0x80, 'V=2, no padding, no report blocks');
  assert.equal(b[1], 200);
  assert.equal(b.readUInt16BE(2), 6, 'length in 32-bit words minus one');
  assert.equal(b.readUInt32BE(4), 0xdeadbeef);
  assert.equal(b.readUInt32BE(8), Date.UTC(2026, 0, 1) / 1000 + 2_208_988_800);
  assert.equal(b.readUInt32BE(12), 0x40000000);
  assert.equal(b.readUInt32BE(16), 0xfffffffe);
  assert.equal(b.readUInt32BE(20), 7);
  assert.equal(b.readUInt32BE(24), 7000);
  // What a receiver keeps of it for LSR: the middle 32 bits of the NTP time.
  const seen: number[] = [];
  forEachSenderReport(b, (ssrc, mid) => seen.push(ssrc, mid));
  assert.deepEqual(seen, [0xdeadbeef, (((b.readUInt32BE(8) & 0xffff) << 16) | 0x4000) >>> 0]);
});
