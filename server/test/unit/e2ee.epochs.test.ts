import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AHEAD, Epochs, PREVIOUS_MS } from '../../../client/src/lib/e2ee/epochs.ts';
import {
  frameEpoch,
  openFrame,
  SEAL_OVERHEAD,
  sealFrame,
} from '../../../client/src/lib/e2ee/frame.ts';
import { roomSecret, senderKey } from '../../../client/src/lib/e2ee/keys.ts';

// The E2EE key epochs in the browser's code, run here on Node's WebCrypto: the frame trailer
// names the epoch (authenticated), every epoch has its own key, and which epochs a receiver
// accepts when (the previous one only briefly).

const bytes = (...b: number[]) => new Uint8Array(b).buffer;

describe('E2EE key epochs', () => {
  test('a sealed frame names its epoch; only that epoch’s key opens it; the epoch is authenticated', async () => {
    const secret = await roomSecret('a passphrase', 'room-1');
    const k3 = await senderKey(secret, 'room-1', 'alice', 3);
    const k2 = await senderKey(secret, 'room-1', 'alice', 2);
    // An Opus frame: TOC byte clear, the rest sealed.
    const frame = bytes(0xfc, 1, 2, 3, 4, 5, 6, 7);
    const sealed = await sealFrame(k3, 'audio', frame, 3);
    assert.equal(sealed.byteLength, frame.byteLength + SEAL_OVERHEAD);
    assert.equal(frameEpoch('audio', sealed), 3);
    assert.deepEqual(new Uint8Array(await openFrame(k3, 'audio', sealed)), new Uint8Array(frame));
    await assert.rejects(openFrame(k2, 'audio', sealed), 'another epoch’s key');
    // Rewriting the trailer to another epoch breaks the tag.
    const forged = new Uint8Array(sealed.slice(0));
    forged[forged.length - 1] = 2;
    await assert.rejects(openFrame(k3, 'audio', forged.buffer));
    assert.equal(frameEpoch('audio', bytes(0xfc, 1)), undefined, 'too short to be sealed');
  });

  test('the current epoch, a few ahead, and the previous one briefly', () => {
    const e = new Epochs();
    assert.ok(e.accepts(0, 0));
    assert.ok(e.accepts(AHEAD, 0));
    assert.ok(!e.accepts(AHEAD + 1, 0), 'far ahead: no key derived for it');
    e.set(1, false, 1000);
    assert.ok(e.accepts(1, 1000));
    assert.ok(e.accepts(0, 1000 + PREVIOUS_MS - 1), 'in-flight frames of the previous epoch');
    assert.ok(!e.accepts(0, 1000 + PREVIOUS_MS), 'then no more');
    assert.ok(e.stale(0, 1000 + PREVIOUS_MS));
    e.set(3, false, 2000);
    assert.ok(!e.accepts(0, 2000), 'two back: never');
    assert.ok(e.accepts(1, 2000), 'the one just left');
    e.set(2, false, 2500);
    assert.equal(e.current, 3, 'never backwards');
    e.set(0, true, 3000);
    assert.equal(e.current, 0, 'unless reset (a join to a server that started again)');
  });
});
