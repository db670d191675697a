import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SIMULCAST_SCALES, botRtpCapabilities, tileLayer } from './profile.ts';
import { keyframeRequestSsrc, loadVp8Fixture } from './rtp.ts';

test('simulcast layers keep frame rate and key frames at a fraction of the bitrate', () => {
  const full = loadVp8Fixture();
  const kbps = SIMULCAST_SCALES.map((s) => {
    const l = loadVp8Fixture(undefined, s);
    assert.equal(l.loopMs, full.loopMs);
    assert.equal(
      l.packets.filter((p) => p.keyframeStart).length,
      full.packets.filter((p) => p.keyframeStart).length,
    );
    return (l.bytesPerLoop * 8) / l.loopMs;
  });
  assert.ok(kbps[0]! < 200 && kbps[1]! < 400 && kbps[2]! > 400, kbps.join(' '));
  assert.ok(kbps[0]! < kbps[1]! && kbps[1]! < kbps[2]!);
});

test('the chrome profile offers tcc, abs-send-time, RTX and NACK/PLI; light offers none', () => {
  const chrome = botRtpCapabilities('none', 'chrome');
  const uris = (chrome.headerExtensions ?? []).map((e) => e.uri);
  assert.ok(uris.some((u) => u.includes('transport-wide-cc')));
  assert.ok(uris.some((u) => u.includes('abs-send-time')));
  assert.ok(chrome.codecs?.some((c) => c.mimeType === 'video/rtx'));
  const vp8 = chrome.codecs?.find((c) => c.mimeType === 'video/VP8');
  assert.ok(vp8?.rtcpFeedback?.some((f) => f.type === 'nack' && f.parameter === 'pli'));
  assert.deepEqual(botRtpCapabilities('none').headerExtensions, []);
  assert.ok(new Set(Array.from({ length: 6 }, (_, i) => tileLayer(i))).size === 3);
});

test('the SSRC a PLI or FIR asks a key frame of', () => {
  const pli = Buffer.from([0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 7]);
  const fir = Buffer.from([0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 1, 0, 0, 0]);
  const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]);
  assert.equal(keyframeRequestSsrc(Buffer.concat([rr, pli])), 7);
  assert.equal(keyframeRequestSsrc(fir), 9);
  assert.equal(keyframeRequestSsrc(rr), undefined);
});
