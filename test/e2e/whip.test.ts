/**
 * Browser e2e (issue #13): WHIP ingest from a client this project did not write (the
 * `whip-whep` package, loaded as an ES module in a Chromium page) shows up in a Tutti room
 * as a participant whose video decodes; its DELETE removes it. Bad tokens, unknown rooms and
 * malformed offers are refused and create nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';

const ROOM = 'Ingest check';
const require = createRequire(import.meta.url);
const whipJs = readFileSync(require.resolve('whip-whep/whip.js'), 'utf8');

/** A page of the server's origin that is not Tutti: the external WHIP client and a camera. */
const PUBLISHER_HTML = `<!doctype html><meta charset="utf-8"><title>WHIP publisher</title>
<script type="module">
  import { WHIPClient } from './whip.js';
  window.publish = async (url, token) => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { height: 240 } });
    const pc = new RTCPeerConnection();
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
    const whip = new WHIPClient();
    await whip.publish(pc, url, token);
    window.whip = whip;
    window.pc = pc;
    return whip.resourceURL.href;
  };
  window.ready = true;
</script>`;

declare global {
  interface Window {
    publish(url: string, token: string): Promise<string>;
    whip: { stop(): Promise<void> };
    pc: RTCPeerConnection;
    ready: boolean;
  }
}

describe('WHIP ingest from the whip-whep client', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Participant;
  let publisherContext: BrowserContext;
  let publisher: Page;
  let whipUrl: string;
  let token: string;

  before(async () => {
    browser = await launchBrowser();
    server = await startTestServer();
    alice = await newParticipant(browser, server.url, 'Alice', { media: false });
    await alice.createRoom({ name: ROOM });
    await alice.page.getByTestId('ingest-token-create').click();
    const shown = alice.page.getByTestId('ingest-token');
    await shown.waitFor();
    whipUrl = await shown.getByTestId('ingest-whip-url').inputValue();
    token = await shown.getByTestId('ingest-token-value').inputValue();
    assert.match(whipUrl, /\/api\/whip\/[0-9a-f-]{36}$/);

    publisherContext = await browser.newContext({ permissions: ['camera', 'microphone'] });
    publisher = await publisherContext.newPage();
    publisher.on('pageerror', (err) => console.error('[publisher] page error:', err.message));
    await publisher.route('**/whip-test/**', (route) => {
      const url = route.request().url();
      if (url.endsWith('/whip.js')) {
        return route.fulfill({ contentType: 'text/javascript', body: whipJs });
      }
      return route.fulfill({ contentType: 'text/html', body: PUBLISHER_HTML });
    });
    await publisher.goto(server.url + '/whip-test/');
    await publisher.waitForFunction(() => window.ready === true);
  });

  after(async () => {
    await publisherContext?.close().catch(() => undefined);
    await browser?.close();
    await server?.stop();
  });

  const post = (url: string, body: string, auth?: string, type = 'application/sdp') =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': type, ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body,
      signal: AbortSignal.timeout(10_000),
    });

  test('a bad token gets 401, an unknown room 404, and nothing joins', async () => {
    const offer = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n';
    const wrong = await post(whipUrl, offer, 'x'.repeat(43));
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { error: string }).error, 'UNAUTHORIZED');
    assert.equal((await post(whipUrl, offer)).status, 401, 'no Authorization');
    const unknown = await post(
      `${server.url}/api/whip/00000000-0000-4000-8000-000000000000`,
      offer,
      token,
    );
    assert.equal(unknown.status, 404);
    assert.equal(await alice.participantCount(), 1);
  });

  test('malformed SDP bodies get 400 with a message, never a crash', async () => {
    const bodies = [
      '',
      'hello',
      'v=0\r\n',
      'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n',
      'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n',
      'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n',
      'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=ice-ufrag:abcd\r\n' +
        'a=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n' +
        'a=rtpmap:96 FOO/90000\r\n',
      'v=0\r\n' + 'm=audio 9 RTP/AVP 0\r\n'.repeat(5000),
      '\u0000\u0001\u0002',
      'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\n' +
        'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\na=sendonly\r\n',
    ];
    for (const body of bodies) {
      const res = await post(whipUrl, body, token);
      assert.ok(res.status === 400 || res.status === 413, `${res.status} for ${body.slice(0, 30)}`);
      const err = (await res.json()) as { error: string; message: string };
      assert.ok(err.message.length > 0);
    }
    const json = await post(whipUrl, '{}', token, 'application/json');
    assert.equal(json.status, 415);
    assert.equal(await alice.participantCount(), 1);
    assert.equal((await fetch(`${server.url}/api/rooms`)).status, 200, 'server still up');
  });

  test('the external client publishes: Alice lists it and decodes its video; DELETE removes it', async () => {
    const location = await publisher.evaluate(([u, t]) => window.publish(u!, t!), [whipUrl, token]);
    assert.match(location, /\/api\/whip\/[0-9a-f-]{36}\/[A-Za-z0-9_-]+$/);
    await alice.waitParticipantCount(2);
    const names = await alice.page.getByTestId('participant').allTextContents();
    assert.ok(
      names.some((n) => n.includes('WHIP ingest')),
      names.join(', '),
    );
    const gained = await alice.waitVideosDecoding(1, 15);
    assert.equal(gained.length, 1);
    await alice.waitAudioFlowing(2000);
    await waitFor(
      () => publisher.evaluate(() => window.pc.connectionState === 'connected'),
      10_000,
      'publisher connected',
    );

    // whip-whep's stop() closes the connection and DELETEs the resource.
    await publisher.evaluate(() => window.whip.stop());
    await alice.waitParticipantCount(1);
    const again = await fetch(location, { method: 'DELETE', signal: AbortSignal.timeout(5000) });
    assert.equal(again.status, 404, 'the session is gone');
  });

  test('a session resource answers DELETE 200 itself', async () => {
    const location = await publisher.evaluate(
      async ([u, t]) => {
        window.whip = undefined as never;
        return window.publish(u!, t!);
      },
      [whipUrl, token],
    );
    await alice.waitParticipantCount(2);
    const res = await fetch(location, { method: 'DELETE', signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    await alice.waitParticipantCount(1);
  });

  test('a publisher that vanishes without DELETE leaves when its DTLS closes', async () => {
    await publisher.evaluate(([u, t]) => window.publish(u!, t!), [whipUrl, token]);
    await alice.waitParticipantCount(2);
    await publisher.evaluate(() => window.pc.close()); // no DELETE
    await alice.waitParticipantCount(1, 40_000);
  });

  test('ingest tokens need the owner secret; revoking one ends its sessions and refuses it', async () => {
    const roomId = whipUrl.split('/').pop()!;
    const tokensUrl = `${server.url}/api/rooms/${roomId}/ingest-tokens`;
    const noSecret = await fetch(tokensUrl, { method: 'POST', signal: AbortSignal.timeout(5000) });
    assert.equal(noSecret.status, 403);
    const wrongSecret = await fetch(tokensUrl, {
      headers: { 'x-owner-secret': 'not-it' },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(wrongSecret.status, 403);
    const ownerSecret = await alice.page.evaluate(
      (id) => localStorage.getItem(`tutti.owner.${id}`),
      roomId,
    );
    const headers = { 'x-owner-secret': ownerSecret!, 'content-type': 'application/json' };
    const made = await fetch(tokensUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ label: 'Camera 2' }),
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(made.status, 201);
    const grant = (await made.json()) as { id: string; token: string };
    const listed = (await (
      await fetch(tokensUrl, { headers, signal: AbortSignal.timeout(5000) })
    ).json()) as { tokens: { id: string; label: string }[] };
    assert.ok(listed.tokens.some((t) => t.id === grant.id && t.label === 'Camera 2'));
    assert.ok(!JSON.stringify(listed).includes(grant.token), 'the secret is never listed');

    await publisher.evaluate(([u, t]) => window.publish(u!, t!), [whipUrl, grant.token]);
    await alice.waitParticipantCount(2);
    const names = await alice.page.getByTestId('participant').allTextContents();
    assert.ok(
      names.some((n) => n.includes('Camera 2')),
      names.join(', '),
    );
    const revoked = await fetch(`${tokensUrl}/${grant.id}`, {
      method: 'DELETE',
      headers: { 'x-owner-secret': ownerSecret! },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(revoked.status, 204);
    await alice.waitParticipantCount(1);
    const refused = await post(whipUrl, 'v=0\r\n', grant.token);
    assert.equal(refused.status, 401);
  });

  test('a password-protected room refuses WHIP with 403 and a reason', async () => {
    const created = await fetch(`${server.url}/api/rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Locked ingest', password: 'sesame' }),
      signal: AbortSignal.timeout(5000),
    });
    const { room, ownerSecret } = (await created.json()) as {
      room: { id: string };
      ownerSecret: string;
    };
    const made = await fetch(`${server.url}/api/rooms/${room.id}/ingest-tokens`, {
      method: 'POST',
      headers: { 'x-owner-secret': ownerSecret },
      signal: AbortSignal.timeout(5000),
    });
    const { token: locked } = (await made.json()) as { token: string };
    const res = await post(`${server.url}/api/whip/${room.id}`, 'v=0\r\n', locked);
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { message: string }).message, /password/);
  });
});
