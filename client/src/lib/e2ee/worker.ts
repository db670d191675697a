/// <reference lib="webworker" />
/**
 * The E2EE transform worker: every RTCRtpScriptTransform of the page runs here. Senders seal
 * each encoded frame with their own key, receivers open it with the sender's key; without a
 * passphrase yet, frames are dropped either way (nothing goes out in the clear, nothing
 * undecryptable reaches a decoder: a wrong passphrase freezes a tile, it never shows garbage).
 */
import { openFrame, sealFrame } from './frame.ts';
import { roomSecret, senderKey } from './keys.ts';
import type { DecryptState, FromWorker, ToWorker, TransformOptions } from './messages.ts';

/** Failed frames in a row before a receiver reports 'failing' (one lost key frame is not it). */
const FAIL_AFTER = 3;

interface EncodedFrame {
  data: ArrayBuffer;
}

interface Transformer {
  readable: ReadableStream<EncodedFrame>;
  writable: WritableStream<EncodedFrame>;
  options: TransformOptions;
}

const scope = self as unknown as DedicatedWorkerGlobalScope;
let room: { id: string; secret: Promise<CryptoKey> } | undefined;
const keys = new Map<string, Promise<CryptoKey>>();

/** The sender's key, derived once per passphrase; undefined while there is no passphrase. */
function keyOf(senderId: string): Promise<CryptoKey> | undefined {
  if (!room) return undefined;
  let key = keys.get(senderId);
  if (!key) {
    const { id, secret } = room;
    key = secret.then((s) => senderKey(s, id, senderId));
    keys.set(senderId, key);
  }
  return key;
}

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  if (event.data.type !== 'passphrase') return;
  room = { id: event.data.roomId, secret: roomSecret(event.data.passphrase, event.data.roomId) };
  keys.clear();
};

function encryptor(options: TransformOptions) {
  return async (frame: EncodedFrame, out: TransformStreamDefaultController<EncodedFrame>) => {
    const key = keyOf(options.senderId);
    if (!key) return;
    frame.data = await sealFrame(await key, options.kind, frame.data);
    out.enqueue(frame);
  };
}

function decryptor(options: Extract<TransformOptions, { operation: 'decrypt' }>) {
  let state: DecryptState | undefined;
  let failures = 0;
  const report = (next: DecryptState) => {
    if (state === next) return;
    state = next;
    const message: FromWorker = { type: 'decrypt', consumerId: options.consumerId, state };
    scope.postMessage(message);
  };
  return async (frame: EncodedFrame, out: TransformStreamDefaultController<EncodedFrame>) => {
    const key = keyOf(options.senderId);
    if (!key) return report('nokey');
    try {
      frame.data = await openFrame(await key, options.kind, frame.data);
    } catch {
      if (++failures >= FAIL_AFTER) report('failing');
      return;
    }
    failures = 0;
    report('ok');
    out.enqueue(frame);
  };
}

scope.addEventListener('rtctransform', (event) => {
  const { readable, writable, options } = (event as unknown as { transformer: Transformer })
    .transformer;
  const transform = options.operation === 'encrypt' ? encryptor(options) : decryptor(options);
  // A frame that fails to seal is dropped with it (never sent in the clear).
  const stream = new TransformStream<EncodedFrame, EncodedFrame>({
    transform: (frame, out) => transform(frame, out).catch(() => undefined),
  });
  readable
    .pipeThrough(stream)
    .pipeTo(writable)
    .catch(() => undefined);
});
