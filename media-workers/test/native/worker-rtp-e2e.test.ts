// End to end through our mediasoup-worker build: a werift publisher sends VP8
// RTP over ICE + DTLS + SRTP into a WebRtcTransport, a werift subscriber gets
// it back out of a second WebRtcTransport. Also the regression test for the
// kTLS BIO trampoline (the DTLS handshake used to SIGSEGV the worker).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtpHeader,
  RtpPacket,
} from 'werift';
import { workerBin } from './worker-bin.ts';

const mediaCodecs: ms.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1,
      'profile-level-id': '42e01f',
      'level-asymmetry-allowed': 1,
    },
  },
];

let worker: ms.Worker;
let router: ms.Router;
let workerDied: Error | undefined;
let onWorkerDied: (err: Error) => void = () => {};
const peers: RTCPeerConnection[] = [];

before(async () => {
  worker = await mediasoup.createWorker({ workerBin: workerBin(), logLevel: 'warn' });
  worker.on('died', (err) => {
    workerDied = err;
    onWorkerDied(err);
  });
  router = await worker.createRouter({ mediaCodecs });
});

after(async () => {
  await Promise.all(peers.map((pc) => pc.close()));
  worker?.close();
});

function newPeer(): RTCPeerConnection {
  const pc = new RTCPeerConnection({
    codecs: {
      audio: [],
      video: [
        new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 96 }),
      ],
    },
    headerExtensions: { audio: [], video: [] },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
  });
  peers.push(pc);
  return pc;
}

function sdpAttr(sdp: string, name: string): string {
  const m = sdp.match(new RegExp(`^a=${name}:(.+)$`, 'm'));
  assert.ok(m?.[1], `a=${name} missing in SDP:\n${sdp}`);
  return m[1].trim();
}

/** Remote DTLS parameters of a werift peer, for transport.connect(). */
function dtlsOf(sdp: string): ms.DtlsParameters {
  const [algorithm, value] = sdpAttr(sdp, 'fingerprint').split(' ');
  const setup = sdpAttr(sdp, 'setup');
  return {
    role: setup === 'passive' ? 'server' : 'client',
    fingerprints: [{ algorithm: algorithm as ms.FingerprintAlgorithm, value: value! }],
  };
}

/** The mediasoup side of the SDP (ICE-lite, one video m-section). */
function mediasoupSdp(
  transport: ms.WebRtcTransport,
  m: { mid: string; pt: number; direction: string; setup: string; ssrc?: number },
): string {
  const fp = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256')!;
  const cand = transport.iceCandidates[0]!;
  return [
    'v=0',
    'o=mediasoup 1 1 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${m.mid}`,
    'a=msid-semantic: WMS *',
    `m=video ${cand.port} UDP/TLS/RTP/SAVPF ${m.pt}`,
    'c=IN IP4 127.0.0.1',
    `a=mid:${m.mid}`,
    `a=${m.direction}`,
    'a=rtcp-mux',
    `a=rtpmap:${m.pt} VP8/90000`,
    `a=ice-ufrag:${transport.iceParameters.usernameFragment}`,
    `a=ice-pwd:${transport.iceParameters.password}`,
    `a=fingerprint:sha-256 ${fp.value}`,
    `a=setup:${m.setup}`,
    ...(m.ssrc ? ['a=msid:tutti v0', `a=ssrc:${m.ssrc} cname:tutti`] : []),
    `a=candidate:${cand.foundation} 1 udp ${cand.priority} ${cand.address} ${cand.port} typ host`,
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}

function transportOptions(): ms.WebRtcTransportOptions {
  return { listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }], enableTcp: false };
}

function waitConnected(transport: ms.WebRtcTransport): Promise<void> {
  if (transport.dtlsState === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('DTLS not connected after 15 s')), 15_000);
    // A worker without the kTLS trampoline dies with SIGSEGV during the handshake.
    onWorkerDied = (err) => {
      clearTimeout(timer);
      reject(new Error(`worker died during the DTLS handshake: ${err.message}`));
    };
    transport.on('dtlsstatechange', (state) => {
      if (state === 'connected') {
        clearTimeout(timer);
        resolve();
      } else if (state === 'failed' || state === 'closed') {
        clearTimeout(timer);
        reject(new Error(`DTLS ${state}`));
      }
    });
  });
}

/** VP8 key frame packet: payload descriptor S=1 PID=0, then a key frame header. */
function vp8Payload(n: number): Buffer {
  const p = Buffer.alloc(600, n & 0xff);
  p.set([0x10, 0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00]);
  p.writeUInt32BE(n, 11);
  return p;
}

test('VP8 RTP flows publisher -> worker -> subscriber over DTLS-SRTP', async () => {
  // Publisher: werift offers, mediasoup (ICE-lite, DTLS server) answers.
  const sendTransport = await router.createWebRtcTransport(transportOptions());
  const pub = newPeer();
  const track = new MediaStreamTrack({ kind: 'video' });
  const sender = pub.addTransceiver(track, { direction: 'sendonly' });
  await pub.setLocalDescription(await pub.createOffer());
  const offer = pub.localDescription!.sdp;
  const pubMid = sdpAttr(offer, 'mid');
  await sendTransport.connect({ dtlsParameters: dtlsOf(offer) });
  await pub.setRemoteDescription({
    type: 'answer',
    sdp: mediasoupSdp(sendTransport, {
      mid: pubMid,
      pt: 96,
      direction: 'recvonly',
      setup: 'passive',
    }),
  });

  const ssrc = sender.sender.ssrc;
  const producer = await sendTransport.produce({
    kind: 'video',
    rtpParameters: {
      mid: pubMid,
      codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }],
      encodings: [{ ssrc }],
      rtcp: { cname: 'tutti-pub', reducedSize: true },
    },
  });

  // Subscriber: mediasoup offers, werift answers.
  const recvTransport = await router.createWebRtcTransport(transportOptions());
  const consumer = await recvTransport.consume({
    producerId: producer.id,
    rtpCapabilities: {
      codecs: router.rtpCapabilities.codecs!.filter((c) => c.mimeType === 'video/VP8'),
      headerExtensions: [],
    },
  });
  const codec = consumer.rtpParameters.codecs[0]!;
  const sub = newPeer();
  const received: Buffer[] = [];
  sub.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((rtp) => received.push(rtp.payload)));
  await sub.setRemoteDescription({
    type: 'offer',
    sdp: mediasoupSdp(recvTransport, {
      mid: consumer.rtpParameters.mid!,
      pt: codec.payloadType,
      direction: 'sendonly',
      setup: 'actpass',
      ssrc: consumer.rtpParameters.encodings![0]!.ssrc!,
    }),
  });
  await sub.setLocalDescription(await sub.createAnswer());
  await recvTransport.connect({ dtlsParameters: dtlsOf(sub.localDescription!.sdp) });

  await Promise.all([waitConnected(sendTransport), waitConnected(recvTransport)]);

  const sent: Buffer[] = [];
  let timestamp = 1000;
  for (let n = 0; n < 150; n++) {
    const payload = vp8Payload(n);
    sent.push(payload);
    track.writeRtp(
      new RtpPacket(
        new RtpHeader({ payloadType: 96, sequenceNumber: n + 1, timestamp, marker: true, ssrc }),
        payload,
      ),
    );
    timestamp += 3000;
    await sleep(10);
  }
  await sleep(1000);

  const producerStats = await producer.getStats();
  const consumerStats = await consumer.getStats();
  assert.ok(
    received.length >= 140,
    `subscriber got ${received.length}/150 packets; producer stats ${JSON.stringify(producerStats)}, consumer stats ${JSON.stringify(consumerStats)}`,
  );
  // Payloads arrive decrypted and intact (SRTP both ways), in order.
  const sentHex = new Set(sent.map((b) => b.toString('hex')));
  for (const payload of received)
    assert.ok(sentHex.has(payload.toString('hex')), 'payload mismatch');
  assert.equal(sendTransport.dtlsState, 'connected');
  assert.equal(recvTransport.dtlsState, 'connected');

  // The worker is alive and answering.
  await worker.getResourceUsage();
  assert.equal(workerDied, undefined, `worker died: ${workerDied?.message}`);
  assert.equal(worker.died, false);
});
