/// <reference lib="webworker" />
/**
 * The E2EE transform worker: every RTCRtpScriptTransform of the page runs here. Senders seal
 * each encoded frame with their own key of the room's current epoch, receivers open it with
 * the sender's key of the epoch the frame names (if that epoch is still accepted: epochs.ts);
 * without a passphrase yet, frames are dropped either way (nothing goes out in the clear,
 * nothing undecryptable reaches a decoder: a wrong passphrase freezes a tile, it never shows
 * garbage).
 */
import { Epochs } from './epochs.ts';
import { frameEpoch, openFrame, sealFrame } from './frame.ts';
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
const epochs = new Epochs();
/** Derived keys by sender and epoch: `${epoch}/${senderId}`. */
const keys = new Map<string, { epoch: number; key: Promise<CryptoKey> }>();

/** The sender's key of `epoch`, derived once; undefined while there is no passphrase. */
function keyOf(senderId: string, epoch: number): Promise<CryptoKey> | undefined {
  if (!room) return undefined;
  const name = `${epoch}/${senderId}`;
  let entry = keys.get(name);
  if (!entry) {
    const { id, secret } = room;
    entry = { epoch, key: secret.then((s) => senderKey(s, id, senderId, epoch)) };
    keys.set(name, entry);
    forgetStale();
  }
  return entry.key;
}

/** Keys of epochs no frame will be opened with again are dropped. */
function forgetStale(): void {
  for (const [name, { epoch }] of keys) if (epochs.stale(epoch)) keys.delete(name);
}

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === 'epoch') {
    epochs.set(message.epoch, message.reset);
    forgetStale();
    return;
  }
  room = { id: message.roomId, secret: roomSecret(message.passphrase, message.roomId) };
  keys.clear();
};

function encryptor(options: TransformOptions) {
  return async (frame: EncodedFrame, out: TransformStreamDefaultController<EncodedFrame>) => {
    const epoch = epochs.current;
    const key = keyOf(options.senderId, epoch);
    if (!key) return;
    frame.data = await sealFrame(await key, options.kind, frame.data, epoch);
    out.enqueue(frame);
  };
}

function decryptor(options: Extract<TransformOptions, { operation: 'decrypt' }>) {
  let state: DecryptState | undefined;
  let epochSeen: number | null = null;
  let reported: number | null = null;
  let failures = 0;
  /** Tells the page when the state changes, or the epoch of the frames that open. */
  const report = (next: DecryptState) => {
    if (state === next && (next !== 'ok' || epochSeen === reported)) return;
    state = next;
    reported = epochSeen;
    const { consumerId } = options;
    const message: FromWorker = { type: 'decrypt', consumerId, state, epoch: epochSeen };
    scope.postMessage(message);
  };
  const failed = () => {
    if (++failures >= FAIL_AFTER) report('failing');
  };
  return async (frame: EncodedFrame, out: TransformStreamDefaultController<EncodedFrame>) => {
    if (!room) return report('nokey');
    const epoch = frameEpoch(options.kind, frame.data);
    // Not sealed, or sealed for an epoch we no longer (or not yet) accept: never decoded.
    if (epoch === undefined || !epochs.accepts(epoch)) return failed();
    const key = keyOf(options.senderId, epoch)!;
    try {
      frame.data = await openFrame(await key, options.kind, frame.data);
    } catch {
      return failed();
    }
    failures = 0;
    epochSeen = epoch;
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
