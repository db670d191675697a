/**
 * Browser e2e (issue #13): an end-to-end encrypted room. Alice creates it (`e2ee-toggle`),
 * Alice and Bob give the same passphrase (`e2ee-passphrase`) and decode each other; Carol
 * gives another one: she decodes nothing and her tiles say `decrypt-error`, without a crash.
 *
 * What the SFU carries is checked by a server-side consumer (a DirectTransport consumer on
 * Alice's router): every Opus payload and every single-packet VP8 frame it receives is AES-GCM
 * ciphertext under the key derived from the passphrase, room and sender — it opens with that
 * key (the GCM tag authenticates it, which a plaintext frame passes with probability 2^-128),
 * fails with the key of another passphrase, and differs from the opened frame, which is what
 * Alice's encoder produced (the transform seals exactly the encoder's output). The passphrase
 * never appears in what the page sends over the signaling WebSocket.
 * Three Chromium pages; Carol sends nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { openFrame, SEAL_OVERHEAD } from '../../client/src/lib/e2ee/frame.ts';
import { roomSecret, senderKey } from '../../client/src/lib/e2ee/keys.ts';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';
import { bytesOf, collectSealed } from '../helpers/sealedFrames.ts';

const ROOM = 'Sealed room';
const PASSPHRASE = 'correct horse battery staple';
const WRONG = 'incorrect donkey';

describe('an end-to-end encrypted room', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Participant;
  let bob: Participant;
  let carol: Participant;
  let roomId: string;
  const sentOverSignaling: string[] = [];

  before(async () => {
    browser = await launchBrowser();
    server = await startTestServer();
    alice = await newParticipant(browser, server.url, 'Alice', { cameraHeight: 180 });
    alice.page.on('websocket', (ws) =>
      ws.on('framesent', (f) => sentOverSignaling.push(String(f.payload))),
    );
    await alice.openLobby();
    await alice.page.getByTestId('room-name').fill(ROOM);
    await alice.page.getByTestId('e2ee-toggle').check();
    await alice.page.getByTestId('create-room').click();
    await alice.waitInRoom();
    roomId = server.app.tutti.rooms.list().find((r) => r.name === ROOM)!.id;
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const unlock = async (p: Participant, passphrase: string) => {
    await p.page.getByTestId('e2ee-passphrase').fill(passphrase);
    await p.page.getByTestId('e2ee-passphrase-submit').click();
    await p.page.getByTestId('e2ee-passphrase').waitFor({ state: 'detached' });
  };

  test('the room is created encrypted and says so; the passphrase is asked in the room', async () => {
    const summary = server.app.tutti.rooms.require(roomId).summary();
    assert.equal(summary.e2ee, true);
    assert.equal(server.app.tutti.rooms.require(roomId).record.e2ee, true);
    await alice.page.getByTestId('e2ee-indicator').waitFor();
    await unlock(alice, PASSPHRASE);
    // No WHIP/WHEP in an encrypted room: the panel is not offered.
    assert.equal(await alice.page.getByTestId('ingest-token-create').count(), 0);
  });

  test('two pages with the same passphrase decode each other', async () => {
    bob = await newParticipant(browser, server.url, 'Bob', { cameraHeight: 180 });
    await bob.joinRoom(ROOM);
    await bob.waitInRoom();
    await bob.page.getByTestId('e2ee-indicator').waitFor();
    await unlock(bob, PASSPHRASE);
    await Promise.all([alice.waitVideosDecoding(1, 15), bob.waitVideosDecoding(1, 15)]);
    await bob.waitAudioFlowing(2000);
    assert.equal(await alice.page.getByTestId('decrypt-error').count(), 0);
    assert.equal(await bob.page.getByTestId('decrypt-error').count(), 0);
  });

  test('the SFU carries ciphertext: a server-side consumer gets frames that open only with the key', async () => {
    const room = server.app.tutti.rooms.require(roomId);
    const aliceId = await alice.page.evaluate(() => window.__tutti!.selfId());
    const member = room.member(aliceId)!;
    const router = room.media.currentRouterFor(aliceId)!;
    const producers = [...member.media.producers()];
    // VP8 and Opus only in such a room (the device was cut to them, the server enforces it).
    for (const p of producers) {
      assert.match(p.rtpParameters.codecs[0]!.mimeType, /^(audio\/opus|video\/VP8)$/i);
    }
    const payloads = await collectSealed(router, producers, { audio: 50, video: 5 });

    // The room is at key epoch 0: nobody left, nobody rotated.
    const right = await senderKey(await roomSecret(PASSPHRASE, roomId), roomId, aliceId, 0);
    const wrong = await senderKey(await roomSecret(WRONG, roomId), roomId, aliceId, 0);
    const buffer = bytesOf;
    let opened = 0;
    for (const { kind, frame } of payloads) {
      const plain = Buffer.from(await openFrame(right, kind, buffer(frame)));
      opened++;
      assert.ok(!plain.equals(frame), 'the encoder output differs from what the SFU carried');
      // Sealed = clear header + ciphertext (same length as the plaintext) + tag + IV + epoch.
      assert.equal(frame.length, plain.length + SEAL_OVERHEAD);
      await assert.rejects(
        openFrame(wrong, kind, buffer(frame)),
        'another passphrase cannot open it',
      );
    }
    assert.equal(opened, payloads.length);
    assert.ok(
      !sentOverSignaling.some((frame) => frame.includes(PASSPHRASE)),
      'the passphrase never went to the server',
    );
  });

  test('a third page with a different passphrase decodes nothing and shows decrypt-error', async () => {
    carol = await newParticipant(browser, server.url, 'Carol', { media: false });
    const errors: string[] = [];
    carol.page.on('pageerror', (err) => errors.push(err.message));
    await carol.joinRoom(ROOM);
    await carol.waitInRoom();
    await unlock(carol, WRONG);
    await carol.page.getByTestId('decrypt-error').first().waitFor({ timeout: 20_000 });
    await waitFor(
      async () => (await carol.page.getByTestId('decrypt-error').count()) === 2,
      20_000,
      'both tiles say they cannot decrypt',
    );
    // Frames arrive (bytes flow) but none reaches a decoder.
    const before = await carol.inboundBytes('video');
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok((await carol.inboundBytes('video')) > before, 'ciphertext does arrive');
    const frames = await carol.frameCounts();
    assert.ok(
      frames.every((f) => f === 0),
      `Carol decoded ${JSON.stringify(frames)} frames`,
    );
    assert.deepEqual(errors, []);
    // And the others keep decoding each other.
    await alice.waitVideosDecoding(1, 10);
    assert.equal(await alice.page.getByTestId('decrypt-error').count(), 0);
  });
});
