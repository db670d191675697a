import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TuttiError } from '@tutti/protocol';
import { parseOffer } from '../../src/ingest/sdp.ts';
import { IngestTokens } from '../../src/ingest/tokens.ts';

describe('ingest tokens', () => {
  test('verify only for its room; revoke and room deletion forget it; a per-room cap', () => {
    const tokens = new IngestTokens(2);
    const a = tokens.create('room-a', 'OBS')!;
    assert.equal(tokens.verify('room-a', a.token)?.label, 'OBS');
    assert.equal(tokens.verify('room-b', a.token), undefined);
    assert.equal(tokens.verify('room-a', a.token + 'x'), undefined);
    assert.ok(!JSON.stringify(tokens.list('room-a')).includes(a.token));
    assert.ok(tokens.create('room-a', 'two'));
    assert.equal(tokens.create('room-a', 'three'), undefined, 'cap per room');
    assert.equal(tokens.revoke('room-b', a.info.id), false, 'not another room’s');
    assert.equal(tokens.revoke('room-a', a.info.id), true);
    assert.equal(tokens.verify('room-a', a.token), undefined);
    tokens.dropRoom('room-a');
    assert.deepEqual(tokens.list('room-a'), []);
  });

  test('each grant has a viewer token: it only watches, the ingest token only publishes, revoked together', () => {
    const tokens = new IngestTokens();
    const g = tokens.create('room-a', 'OBS')!;
    assert.notEqual(g.viewerToken, g.token);
    assert.equal(tokens.verify('room-a', g.viewerToken, 'viewer')?.id, g.info.id);
    assert.equal(tokens.verify('room-a', g.viewerToken), undefined, 'cannot publish');
    assert.equal(tokens.verify('room-a', g.token, 'viewer'), undefined, 'cannot watch');
    assert.equal(tokens.verify('room-b', g.viewerToken, 'viewer'), undefined);
    assert.ok(!JSON.stringify(tokens.list('room-a')).includes(g.viewerToken));
    tokens.revoke('room-a', g.info.id);
    assert.equal(tokens.verify('room-a', g.viewerToken, 'viewer'), undefined);
  });
});

describe('WHIP offer parsing', () => {
  const head = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n';
  const creds = 'a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n';
  const fp = 'a=fingerprint:sha-256 AB:CD:EF\r\na=setup:actpass\r\n';
  const video = (dir = 'sendonly', mid = '0') =>
    `m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:${mid}\r\na=${dir}\r\na=rtpmap:96 VP8/90000\r\n`;

  const rejects = (sdp: string, pattern: RegExp) =>
    assert.throws(
      () => parseOffer(sdp),
      (err: unknown) =>
        err instanceof TuttiError && err.code === 'INVALID_REQUEST' && pattern.test(err.message),
    );

  test('refuses what cannot be a WHIP offer, with the reason', () => {
    rejects('', /v=0/);
    rejects(head, /no media/);
    rejects(
      head + 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n',
      /unsupported/,
    );
    rejects(head + video('recvonly') + creds + fp, /sendonly/);
    assert.throws(() => parseOffer(head + creds + fp + video(), 'view'), /recvonly/);
    rejects(head + video() + fp, /ICE/);
    rejects(head + creds + video() + video('sendonly', '1'), /more than one video/);
    rejects(head + creds + video(), /DTLS/);
  });

  test('accepts a sendonly offer and reads its DTLS fingerprint', () => {
    const offer = parseOffer(head + creds + fp + video());
    assert.equal(offer.dtlsParameters.fingerprints[0]?.algorithm, 'sha-256');
    assert.equal(offer.sdp.media.length, 1);
    assert.equal(parseOffer(head + creds + fp + video('recvonly'), 'view').sdp.media.length, 1);
  });
});
