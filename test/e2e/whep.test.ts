/**
 * Browser e2e (issue #13): WHEP playback with a client this project did not write (the
 * `whip-whep` package's whep.js, in a Chromium page of the server's origin that never joins
 * the room). The viewer decodes the room's video and receives its audio; when the person it
 * shows leaves, the server switches it to the other one (a new SSRC on the same m-line that
 * the page decodes too); DELETE ends it. Tokens: the viewer token only watches, the ingest
 * token only publishes, and an E2EE room refuses both WHIP and WHEP with the reason.
 * Two Chromium pages with media at most (Alice, Bob) plus the viewer page.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';

const ROOM = 'Playback check';
const require = createRequire(import.meta.url);
const whepJs = readFileSync(require.resolve('whip-whep/whep.js'), 'utf8');

/** A page of the server's origin that is not Tutti: the external WHEP client and a <video>. */
const VIEWER_HTML = `<!doctype html><meta charset="utf-8"><title>WHEP viewer</title>
<video id="v" autoplay muted playsinline></video>
<script type="module">
  import { WHEPClient } from './whep.js';
  window.view = async (url, token) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream();
    pc.ontrack = (e) => { stream.addTrack(e.track); document.getElementById('v').srcObject = stream; };
    const whep = new WHEPClient();
    await whep.view(pc, url, token);
    window.whep = whep;
    window.pc = pc;
    return whep.resourceURL.href;
  };
  window.inbound = async () => {
    const out = [];
    (await window.pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') {
        out.push({ kind: s.kind, ssrc: s.ssrc, packets: s.packetsReceived, frames: s.framesDecoded ?? 0 });
      }
    });
    return out;
  };
  window.ready = true;
</script>`;

interface Inbound {
  kind: 'audio' | 'video';
  ssrc: number;
  packets: number;
  frames: number;
}

declare global {
  interface Window {
    view(url: string, token: string): Promise<string>;
    inbound(): Promise<Inbound[]>;
    whep: { stop(): Promise<void> };
    pc: RTCPeerConnection;
    ready: boolean;
  }
}

describe('WHEP playback with the whip-whep client', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Participant;
  let bob: Participant | undefined;
  let viewerContext: BrowserContext;
  let viewer: Page;
  let whepUrl: string;
  let viewerToken: string;
  let ingestToken: string;

  before(async () => {
    browser = await launchBrowser();
    server = await startTestServer();
    alice = await newParticipant(browser, server.url, 'Alice');
    await alice.createRoom({ name: ROOM });
    await alice.page.getByTestId('ingest-token-create').click();
    const shown = alice.page.getByTestId('ingest-token');
    await shown.waitFor();
    whepUrl = await shown.getByTestId('ingest-whep-url').inputValue();
    viewerToken = await shown.getByTestId('ingest-viewer-token').inputValue();
    ingestToken = await shown.getByTestId('ingest-token-value').inputValue();
    assert.match(whepUrl, /\/api\/whep\/[0-9a-f-]{36}$/);
    assert.notEqual(viewerToken, ingestToken);

    viewerContext = await browser.newContext();
    viewer = await viewerContext.newPage();
    viewer.on('pageerror', (err) => console.error('[viewer] page error:', err.message));
    await viewer.route('**/whep-test/**', (route) => {
      if (route.request().url().endsWith('/whep.js')) {
        return route.fulfill({ contentType: 'text/javascript', body: whepJs });
      }
      return route.fulfill({ contentType: 'text/html', body: VIEWER_HTML });
    });
    await viewer.goto(server.url + '/whep-test/');
    await viewer.waitForFunction(() => window.ready === true);
  });

  after(async () => {
    await viewerContext?.close().catch(() => undefined);
    await browser?.close();
    await server?.stop();
  });

  const post = (url: string, body: string, auth?: string) =>
    fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/sdp',
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });

  /** Waits until the viewer decoded `frames` more video frames on an SSRC other than `not`. */
  const decodingOn = async (not: number | undefined, frames = 15): Promise<number> => {
    const video = async () =>
      (await viewer.evaluate(() => window.inbound())).filter((s) => s.kind === 'video');
    const base = new Map((await video()).map((s) => [s.ssrc, s.frames]));
    let found: number | undefined;
    await waitFor(
      async () => {
        found = (await video()).find(
          (s) => s.ssrc !== not && s.frames - (base.get(s.ssrc) ?? 0) >= frames,
        )?.ssrc;
        return found !== undefined;
      },
      30_000,
      `viewer decoding video${not === undefined ? '' : ` on an SSRC other than ${not}`}`,
    );
    return found!;
  };

  test('wrong tokens get 401: a viewer token cannot publish, an ingest token cannot watch', async () => {
    const offer = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n';
    assert.equal((await post(whepUrl, offer)).status, 401, 'no Authorization');
    assert.equal((await post(whepUrl, offer, ingestToken)).status, 401, 'ingest token');
    assert.equal((await post(whepUrl, offer, 'x'.repeat(43))).status, 401);
    const whip = whepUrl.replace('/api/whep/', '/api/whip/');
    assert.equal((await post(whip, offer, viewerToken)).status, 401, 'viewer token on WHIP');
    // A sendonly (WHIP) offer is not a viewer's.
    const sendonly =
      'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=ice-ufrag:abcd\r\n' +
      'a=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n' +
      'a=rtpmap:96 VP8/90000\r\n';
    const res = await post(whepUrl, sendonly, viewerToken);
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /recvonly/);
    assert.equal(await alice.participantCount(), 1);
  });

  test('a page that never joined plays the room; the shown person leaves: it follows to the other; DELETE ends it', async () => {
    const location = await viewer.evaluate(([u, t]) => window.view(u!, t!), [whepUrl, viewerToken]);
    assert.match(location, /\/api\/whep\/[0-9a-f-]{36}\/[A-Za-z0-9_-]+$/);
    const first = await decodingOn(undefined);
    await waitFor(
      async () =>
        (await viewer.evaluate(() => window.inbound())).some(
          (s) => s.kind === 'audio' && s.packets > 50,
        ),
      20_000,
      'viewer receiving audio',
    );
    assert.equal(await alice.participantCount(), 1, 'the viewer is no participant');

    // Bob joins; then whoever is shown leaves (Alice, unless Bob became the speaker). The
    // viewer must end up decoding a new SSRC: the other person's camera.
    bob = await newParticipant(browser, server.url, 'Bob');
    await bob.joinRoom(ROOM);
    await bob.waitInRoom();
    await alice.waitVideosDecoding(1, 10);
    await alice.close();
    await bob.waitParticipantCount(1);
    const second = await decodingOn(first);
    assert.notEqual(second, first);

    await viewer.evaluate(() => window.whep.stop()); // closes and DELETEs the resource
    const again = await fetch(server.url + new URL(location).pathname, {
      method: 'DELETE',
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(again.status, 404, 'the session is gone');
  });

  test('?participant= pins a member; an unknown one is 404', async () => {
    const unknown = `${whepUrl}?participant=00000000-0000-4000-8000-000000000000`;
    const page = viewer;
    const failed = await page.evaluate(
      async ([u, t]) =>
        window.view(u!, t!).then(
          () => 'ok',
          (err: Error) => err.message,
        ),
      [unknown, viewerToken],
    );
    assert.match(failed, /404/);
    const bobId = await bob!.page.evaluate(() => window.__tutti!.selfId());
    await page.reload();
    await page.waitForFunction(() => window.ready === true);
    const location = await page.evaluate(
      ([u, t]) => window.view(u!, t!),
      [`${whepUrl}?participant=${bobId}`, viewerToken],
    );
    await decodingOn(undefined);
    const res = await fetch(server.url + new URL(location).pathname, {
      method: 'DELETE',
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 200);
  });

  test('an end-to-end encrypted room refuses WHIP and WHEP with 403 and the reason', async () => {
    const created = await fetch(`${server.url}/api/rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Sealed playback', e2ee: true }),
      signal: AbortSignal.timeout(5000),
    });
    const { room, ownerSecret } = (await created.json()) as {
      room: { id: string; e2ee: boolean };
      ownerSecret: string;
    };
    assert.equal(room.e2ee, true);
    const made = await fetch(`${server.url}/api/rooms/${room.id}/ingest-tokens`, {
      method: 'POST',
      headers: { 'x-owner-secret': ownerSecret },
      signal: AbortSignal.timeout(5000),
    });
    const grant = (await made.json()) as { token: string; viewerToken: string };
    for (const [path, token] of [
      ['whip', grant.token],
      ['whep', grant.viewerToken],
    ] as const) {
      const res = await post(`${server.url}/api/${path}/${room.id}`, 'v=0\r\n', token);
      assert.equal(res.status, 403, path);
      assert.match(((await res.json()) as { message: string }).message, /end-to-end encrypted/);
    }
  });
});
