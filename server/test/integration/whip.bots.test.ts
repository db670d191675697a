import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import ndc from 'node-datachannel';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { pacer, SubscriberBot, waitOpen, type NewConsumer } from '../../../test/load/bots.ts';
import { isRtcp, loadOpusFixture, loadVp8Fixture, RtpStream } from '../../../test/load/rtp.ts';
import { TuttiSignaling } from '../../../test/load/signaling.ts';

// WHIP with the node-datachannel bots (issue 13): a libdatachannel peer (not a browser, not
// this project's signaling) offers VP8 + Opus over plain WHIP; a Tutti subscriber bot in the
// room counts the RTP of both streams; DELETE on the Location makes the publisher leave.
// WHEP with a libdatachannel viewer too: it routes incoming RTP by announced SSRCs only, so
// the answer names the consumer behind each m-line (test/e2e/whep.test.ts plays WHEP with
// the external whip-whep client in Chromium, following the active speaker).
let s: TestServer;
const closers: (() => void)[] = [];

before(async () => {
  s = await startTestServer();
});
after(async () => {
  for (const close of closers.splice(0)) close();
  await s.stop();
});

/** A libdatachannel peer for WHIP/WHEP (loopback, UDP only), closed after the tests. */
function httpPeer(name: string): ndc.PeerConnection {
  const pc = new ndc.PeerConnection(name, {
    iceServers: [],
    bindAddress: '127.0.0.1',
    enableIceTcp: false,
  });
  closers.push(() => pc.close());
  return pc;
}

/**
 * One full offer (candidates gathered) POSTed as RFC 9725 asks; the answer applied. Resolves
 * the session's resource URL (its Location).
 */
async function offerOverHttp(pc: ndc.PeerConnection, url: string, token: string): Promise<string> {
  const gathered = new Promise<void>((resolve) =>
    pc.onGatheringStateChange((state) => state === 'complete' && resolve()),
  );
  pc.setLocalDescription('offer');
  if (pc.gatheringState() !== 'complete') await gathered;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` },
    body: pc.localDescription()!.sdp,
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const location = res.headers.get('location');
  assert.ok(location, 'a Location for the session');
  pc.setRemoteDescription(await res.text(), 'answer');
  return new URL(location, url).href;
}

/** A WHIP publisher on libdatachannel: VP8 + Opus from the fixtures, paced. */
async function whipPublish(url: string, token: string) {
  const pc = httpPeer('whip-bot');
  const cname = 'whip-bot';
  const video = new ndc.Video('0', 'SendOnly');
  video.addVP8Codec(96);
  video.addSSRC(11_111, cname, cname, 'whip-video');
  const audio = new ndc.Audio('1', 'SendOnly');
  audio.addOpusCodec(111);
  audio.addSSRC(22_222, cname, cname, 'whip-audio');
  const tracks = [pc.addTrack(video), pc.addTrack(audio)] as const;
  const resource = await offerOverHttp(pc, url, token);
  await Promise.all(tracks.map((t) => waitOpen(t, 15_000)));
  closers.push(pacer.add(new RtpStream(loadVp8Fixture(), 11_111, 96), tracks[0]));
  closers.push(pacer.add(new RtpStream(loadOpusFixture(), 22_222, 111), tracks[1]));
  return resource;
}

test('a node-datachannel WHIP publisher is a participant whose RTP flows; DELETE removes it', async () => {
  // Ingest tokens are the owner's: the room is made over HTTP, with its owner secret.
  const owned = await (
    await fetch(`${s.url}/api/rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'WHIP bots' }),
    })
  ).json();
  const { room, ownerSecret } = owned as { room: { id: string }; ownerSecret: string };
  const made = (await (
    await fetch(`${s.url}/api/rooms/${room.id}/ingest-tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-owner-secret': ownerSecret },
      body: JSON.stringify({ label: 'bot' }),
    })
  ).json()) as { token: string; whipUrl: string };

  // The watcher: a Tutti subscriber bot whose consumer offers are kept per producer.
  const sig = await TuttiSignaling.join(s.wsUrl, room.id, 'Watcher');
  const offers = new Map<string, NewConsumer>();
  const onNewConsumer = sig.onNewConsumer.bind(sig);
  sig.onNewConsumer = (handler) =>
    onNewConsumer(async (c) => {
      offers.set(c.producerId, c);
      await handler(c);
    });
  const left: string[] = [];
  sig.peer.on('room.peerLeft', (d: { peerId: string }) => left.push(d.peerId));
  const watcher = new SubscriberBot(sig, { name: 'Watcher', bindAddress: '127.0.0.1' }, 'none');
  await watcher.start();
  closers.push(() => watcher.close());

  const resource = await whipPublish(`${s.url}${made.whipUrl}`, made.token);
  const packets = (kind: 'audio' | 'video') => {
    const offer = [...offers.values()].find((o) => o.kind === kind);
    const mid = offer?.rtpParameters.mid;
    return mid === undefined ? 0 : (watcher.streams.get(mid)?.stats.packets ?? 0);
  };
  const deadline = Date.now() + 15_000;
  while (packets('video') < 30 || packets('audio') < 30) {
    assert.ok(
      Date.now() < deadline,
      `WHIP RTP at the watcher: video ${packets('video')}, audio ${packets('audio')}`,
    );
    await new Promise((r) => setTimeout(r, 100));
  }
  const publisherId = [...offers.values()][0]!.peerId;

  const del = await fetch(resource, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${made.token}` },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(del.status, 200);
  const until = Date.now() + 5000;
  while (!left.includes(publisherId)) {
    assert.ok(Date.now() < until, 'the WHIP participant left after DELETE');
    await new Promise((r) => setTimeout(r, 50));
  }
});

/**
 * A WHEP viewer on libdatachannel: recvonly VP8 + Opus with the mid header extension on
 * both (one id for both kinds, as browsers do), RTP counted per m-line.
 */
async function whepView(url: string, token: string) {
  const pc = httpPeer('whep-bot');
  const video = new ndc.Video('0', 'RecvOnly');
  video.addVP8Codec(96);
  video.parseSdpLine('a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid');
  const audio = new ndc.Audio('1', 'RecvOnly');
  audio.addOpusCodec(111);
  audio.parseSdpLine('a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid');
  const tracks = { video: pc.addTrack(video), audio: pc.addTrack(audio) };
  const packets = { video: 0, audio: 0 };
  for (const kind of ['video', 'audio'] as const) {
    tracks[kind].onMessage((msg) => {
      if (!isRtcp(msg) && msg.length >= 12) packets[kind]++;
    });
  }
  const resource = await offerOverHttp(pc, url, token);
  await Promise.all([waitOpen(tracks.video, 15_000), waitOpen(tracks.audio, 15_000)]);
  return { packets, resource };
}

test("a node-datachannel WHEP viewer receives a WHIP publisher's video and audio", async () => {
  const owned = (await (
    await fetch(`${s.url}/api/rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'WHEP bots' }),
    })
  ).json()) as { room: { id: string }; ownerSecret: string };
  const made = (await (
    await fetch(`${s.url}/api/rooms/${owned.room.id}/ingest-tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-owner-secret': owned.ownerSecret },
      body: JSON.stringify({ label: 'bots' }),
    })
  ).json()) as { token: string; whipUrl: string; viewerToken: string; whepUrl: string };
  await whipPublish(`${s.url}${made.whipUrl}`, made.token);
  const viewer = await whepView(`${s.url}${made.whepUrl}`, made.viewerToken);
  const deadline = Date.now() + 15_000;
  while (viewer.packets.video < 30 || viewer.packets.audio < 30) {
    assert.ok(
      Date.now() < deadline,
      `WHEP RTP at the viewer: video ${viewer.packets.video}, audio ${viewer.packets.audio}`,
    );
    await new Promise((r) => setTimeout(r, 100));
  }
  const del = await fetch(viewer.resource, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${made.viewerToken}` },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(del.status, 200);
});

test('a WHIP offer the room cannot take is refused before anyone sees a participant come and go', async () => {
  const owned = (await (
    await fetch(`${s.url}/api/rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'WHIP refusals' }),
    })
  ).json()) as { room: { id: string }; ownerSecret: string };
  const made = (await (
    await fetch(`${s.url}/api/rooms/${owned.room.id}/ingest-tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-owner-secret': owned.ownerSecret },
      body: JSON.stringify({ label: 'bad' }),
    })
  ).json()) as { token: string; whipUrl: string };
  const sig = await TuttiSignaling.join(s.wsUrl, owned.room.id, 'Watcher');
  closers.push(() => sig.close());
  const seen: string[] = [];
  sig.peer.on('room.peerJoined', (d: { peer: { nickname: string } }) => seen.push(d.peer.nickname));
  const ice = 'a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n';
  const offers = [
    // A codec the room does not have.
    `v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\n${ice}` +
      'a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\na=rtpmap:96 FOO/90000\r\n',
    // VP8, but no DTLS fingerprint.
    `v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\n${ice}` +
      'a=setup:actpass\r\na=rtpmap:96 VP8/90000\r\n',
  ];
  for (const sdp of offers) {
    const res = await fetch(`${s.url}${made.whipUrl}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${made.token}` },
      body: sdp,
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 400, await res.text());
  }
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(seen, [], 'nobody joined, not even for a moment');
});
