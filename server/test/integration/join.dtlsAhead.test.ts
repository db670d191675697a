import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { errorCodeOf, type JoinDtlsParameters, type RtpCapabilities } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { botRtpCapabilities, PublisherBot, SubscriberBot } from '../../../test/load/bots.ts';
import { ProtooPeer } from '../../../test/load/protoo.ts';
import { loadOpusFixture, loadVp8Fixture } from '../../../test/load/rtp.ts';
import { ensureRoom, TuttiSignaling } from '../../../test/load/signaling.ts';

// The client's DTLS parameters in the join (issue 12): a client that made its certificate
// ahead sends its fingerprint in room.join's media part, the server connects the join's
// transports with it, and the client never sends media.connectTransport — real worker,
// node-datachannel bots whose certificate is made with openssl before the join, RTP counted.
const HOST = '127.0.16.2';
let s: TestServer;
let roomId: string;
let publisher: PublisherBot;
let certDir: string;
const closers: (() => void)[] = [];

/** An ECDSA P-256 certificate (as browsers make) in PEM files, and its SHA-256 fingerprint. */
function makeCertificate(name: string) {
  const certificatePemFile = path.join(certDir, `${name}.crt`);
  const keyPemFile = path.join(certDir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
      ...['-nodes', '-days', '1', '-subj', `/CN=${name}`],
      ...['-keyout', keyPemFile, '-out', certificatePemFile],
    ],
    { stdio: 'ignore' },
  );
  const fingerprint = new X509Certificate(readFileSync(certificatePemFile)).fingerprint256;
  return { files: { certificatePemFile, keyPemFile }, fingerprint };
}

const dtlsOf = (fingerprint: string): JoinDtlsParameters => ({
  role: 'client',
  fingerprints: [{ algorithm: 'sha-256', value: fingerprint }],
});

before(async () => {
  certDir = mkdtempSync(path.join(tmpdir(), 'tutti-dtls-'));
  s = await startTestServer({ server: { host: HOST }, media: { listenIp: HOST } });
  roomId = await ensureRoom(s.wsUrl, 'dtls ahead');
  publisher = new PublisherBot(
    await TuttiSignaling.join(s.wsUrl, roomId, 'Publisher'),
    { video: loadVp8Fixture(), audio: loadOpusFixture() },
    { name: 'Publisher', bindAddress: HOST },
  );
  closers.push(() => publisher.close());
  await publisher.start();
});
after(async () => {
  for (const close of closers.splice(0)) close();
  await s.stop();
  rmSync(certDir, { recursive: true, force: true });
});

async function lobbyCapabilities(): Promise<RtpCapabilities> {
  const peer = await ProtooPeer.connect(s.wsUrl);
  try {
    const { routerRtpCapabilities } = await peer.request('lobby.subscribe', {});
    assert.ok(routerRtpCapabilities);
    return routerRtpCapabilities;
  } finally {
    peer.close();
  }
}

test('a join with DTLS parameters gets connected transports: no media.connectTransport, RTP flows, DTLS connected, a key frame asked for', async () => {
  await lobbyCapabilities();
  const cert = makeCertificate('fast');
  // Lower case, as RTCCertificate.getFingerprints() may give it: the server compares in upper.
  const dtls = dtlsOf(cert.fingerprint.toLowerCase());
  const { sig, joined } = await TuttiSignaling.joinWithMedia(s.wsUrl, roomId, 'Fast', {
    transports: ['recv', 'send'],
    rtpCapabilities: botRtpCapabilities('none'),
    dtlsParameters: dtls,
  });
  const media = joined.media;
  assert.ok(media?.recv && media.send && media.consumers, 'transports and consumers');
  assert.deepEqual(media.connected, ['recv', 'send'], 'the server connected both transports');
  assert.equal(media.consumers.length, publisher.producerIds.length);

  let connects = 0;
  sig.connectTransport = () => {
    connects++;
    return Promise.reject(new Error('media.connectTransport must not be needed'));
  };
  const keyframesBefore = publisher.keyframeRequests;
  const sub = new SubscriberBot(
    sig,
    { name: 'Fast', bindAddress: HOST, certificate: cert.files },
    'none',
  );
  closers.push(() => sub.close());
  await sub.start(performance.now(), {
    transport: media.recv,
    consumers: media.consumers,
    connected: true,
  });
  const mids = media.consumers.map((c) => c.rtpParameters.mid ?? '');
  const deadline = Date.now() + 15_000;
  const packets = () => mids.map((mid) => sub.streams.get(mid)?.stats.packets ?? 0);
  while (packets().some((n) => n < 30)) {
    assert.ok(Date.now() < deadline, `RTP per stream ${packets().join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(connects, 0, 'no media.connectTransport was sent');
  const { stats } = await sig.peer.request('media.getStats', {
    kind: 'transport',
    id: media.recv.id,
  });
  const [transportStats] = stats as { dtlsState?: string }[];
  assert.equal(transportStats?.dtlsState, 'connected', 'the recv transport is DTLS-connected');
  assert.ok(
    publisher.keyframeRequests > keyframesBefore,
    'the worker asked the publisher for a key frame once the consumer ran on a connected transport',
  );

  // A client whose connect event still asks: same parameters → done; others → refused.
  const peer = sig.peer;
  await peer.request('media.connectTransport', {
    transportId: media.recv.id,
    dtlsParameters: dtls,
  });
  await peer.request('media.connectTransport', {
    transportId: media.send.id,
    dtlsParameters: dtlsOf(cert.fingerprint),
  });
  await assert.rejects(
    peer.request('media.connectTransport', {
      transportId: media.recv.id,
      dtlsParameters: dtlsOf(makeCertificate('other').fingerprint),
    }),
    (e) => errorCodeOf(e) === 'INVALID_REQUEST',
  );
  // Not fingerprints at all (the fuzz found `{}` answered INTERNAL): a clear refusal.
  for (const dtlsParameters of [{}, { fingerprints: 'x' }, { fingerprints: [{ value: 1 }] }]) {
    await assert.rejects(
      peer.request('media.connectTransport', {
        transportId: media.recv.id,
        dtlsParameters: dtlsParameters as unknown as typeof dtls,
      }),
      (e) => errorCodeOf(e) === 'INVALID_REQUEST',
    );
  }
});

test('room.join media.dtlsParameters is validated: role client only, hex fingerprints', async () => {
  const { fingerprint } = makeCertificate('bad');
  const bad: unknown[] = [
    { role: 'server', fingerprints: [{ algorithm: 'sha-256', value: fingerprint }] },
    { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: fingerprint }] },
    { role: 'client', fingerprints: [] },
    { role: 'client', fingerprints: [{ algorithm: 'md5', value: fingerprint }] },
    { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'not a fingerprint' }] },
    { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: fingerprint, x: 1 }] },
  ];
  for (const dtlsParameters of bad) {
    await assert.rejects(
      TuttiSignaling.joinWithMedia(s.wsUrl, roomId, 'Bad', {
        transports: ['recv'],
        dtlsParameters: dtlsParameters as JoinDtlsParameters,
      }),
      (e) => errorCodeOf(e) === 'INVALID_REQUEST',
      JSON.stringify(dtlsParameters),
    );
  }
});

test('without DTLS parameters nothing is connected ahead: the client connects with media.connectTransport, as before', async () => {
  const { sig, joined } = await TuttiSignaling.joinWithMedia(s.wsUrl, roomId, 'Plain', {
    transports: ['recv'],
    rtpCapabilities: botRtpCapabilities('none'),
  });
  const media = joined.media;
  assert.ok(media?.recv && media.consumers);
  assert.equal(media.connected, undefined);
  let connects = 0;
  const connect = sig.connectTransport.bind(sig);
  sig.connectTransport = (id, d) => {
    connects++;
    return connect(id, d);
  };
  const sub = new SubscriberBot(sig, { name: 'Plain', bindAddress: HOST }, 'none');
  closers.push(() => sub.close());
  await sub.start(performance.now(), { transport: media.recv, consumers: media.consumers });
  const mid = media.consumers[0]!.rtpParameters.mid ?? '';
  const deadline = Date.now() + 15_000;
  while ((sub.streams.get(mid)?.stats.packets ?? 0) < 30) {
    assert.ok(Date.now() < deadline, 'RTP flows after media.connectTransport');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(connects, 1, 'one media.connectTransport');
});
