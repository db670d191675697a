/**
 * The E2EE frame format (docs/e2ee.md): the codec's header bytes stay clear so the SFU
 * still sees key frames and layers, the rest is AES-GCM sealed with the clear header and
 * the epoch as additional data; the 12-byte IV and the key epoch (uint32, big-endian) follow:
 *
 *   clear header | ciphertext + 16-byte tag | IV | epoch
 *
 * Clear: VP8 10 bytes on a key frame (the payload header, start code and size), 3 on a
 * delta frame (RFC 6386 §9.1); Opus 1 byte (the TOC, RFC 6716 §3.1).
 */

const IV_BYTES = 12;
const TAG_BYTES = 16;
const EPOCH_BYTES = 4;
/** What sealing adds to a frame: tag, IV and epoch. */
export const SEAL_OVERHEAD = TAG_BYTES + IV_BYTES + EPOCH_BYTES;

export type FrameKind = 'audio' | 'video';

/** How many leading bytes of an encoded frame stay clear. Bit 0 of VP8's first byte is 0 on key frames. */
export function clearBytes(kind: FrameKind, frame: Uint8Array): number {
  if (kind === 'audio') return Math.min(1, frame.length);
  return Math.min((frame[0]! & 1) === 0 ? 10 : 3, frame.length);
}

/** The clear header and the epoch bytes: what GCM authenticates without hiding. */
function additional(clear: Uint8Array, epoch: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(clear.length + EPOCH_BYTES);
  out.set(clear, 0);
  out.set(epoch, clear.length);
  return out;
}

function epochBytes(epoch: number): Uint8Array {
  const out = new Uint8Array(EPOCH_BYTES);
  new DataView(out.buffer).setUint32(0, epoch);
  return out;
}

/** Seals one encoded frame with the key of `epoch` (written in the trailer). */
export async function sealFrame(
  key: CryptoKey,
  kind: FrameKind,
  data: ArrayBuffer,
  epoch: number,
): Promise<ArrayBuffer> {
  const frame = new Uint8Array(data);
  const clear = frame.subarray(0, clearBytes(kind, frame));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const tail = epochBytes(epoch);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: additional(clear, tail) },
      key,
      frame.subarray(clear.length),
    ),
  );
  const out = new Uint8Array(clear.length + sealed.length + IV_BYTES + EPOCH_BYTES);
  out.set(clear, 0);
  out.set(sealed, clear.length);
  out.set(iv, clear.length + sealed.length);
  out.set(tail, clear.length + sealed.length + IV_BYTES);
  return out.buffer;
}

/** The key epoch a sealed frame names in its trailer, or undefined if it is too short. */
export function frameEpoch(kind: FrameKind, data: ArrayBuffer): number | undefined {
  const frame = new Uint8Array(data);
  if (frame.length < clearBytes(kind, frame) + SEAL_OVERHEAD) return undefined;
  return new DataView(data).getUint32(frame.length - EPOCH_BYTES);
}

/**
 * Opens one sealed frame with the key of the epoch its trailer names (frameEpoch); rejects
 * when the key is wrong or the frame is not one of ours.
 */
export async function openFrame(
  key: CryptoKey,
  kind: FrameKind,
  data: ArrayBuffer,
): Promise<ArrayBuffer> {
  const frame = new Uint8Array(data);
  const clearLength = clearBytes(kind, frame);
  if (frame.length < clearLength + SEAL_OVERHEAD) throw new Error('not a sealed frame');
  const clear = frame.subarray(0, clearLength);
  const tail = frame.subarray(frame.length - EPOCH_BYTES);
  const ivAt = frame.length - EPOCH_BYTES - IV_BYTES;
  const iv = frame.subarray(ivAt, ivAt + IV_BYTES);
  const plain = new Uint8Array(
    await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: additional(clear, tail) },
      key,
      frame.subarray(clearLength, ivAt),
    ),
  );
  const out = new Uint8Array(clearLength + plain.length);
  out.set(clear, 0);
  out.set(plain, clearLength);
  return out.buffer;
}
