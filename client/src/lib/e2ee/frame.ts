/**
 * The E2EE frame format (docs/e2ee.md): the codec's header bytes stay clear so the SFU
 * still sees key frames and layers, the rest is AES-GCM sealed with the clear header as
 * additional data, and the 12-byte IV follows:
 *
 *   clear header | ciphertext + 16-byte tag | IV
 *
 * Clear: VP8 10 bytes on a key frame (the payload header, start code and size), 3 on a
 * delta frame (RFC 6386 §9.1); Opus 1 byte (the TOC, RFC 6716 §3.1).
 */

const IV_BYTES = 12;
const TAG_BYTES = 16;

export type FrameKind = 'audio' | 'video';

/** How many leading bytes of an encoded frame stay clear. Bit 0 of VP8's first byte is 0 on key frames. */
export function clearBytes(kind: FrameKind, frame: Uint8Array): number {
  if (kind === 'audio') return Math.min(1, frame.length);
  return Math.min((frame[0]! & 1) === 0 ? 10 : 3, frame.length);
}

/** Seals one encoded frame. */
export async function sealFrame(
  key: CryptoKey,
  kind: FrameKind,
  data: ArrayBuffer,
): Promise<ArrayBuffer> {
  const frame = new Uint8Array(data);
  const clear = frame.subarray(0, clearBytes(kind, frame));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: clear },
      key,
      frame.subarray(clear.length),
    ),
  );
  const out = new Uint8Array(clear.length + sealed.length + IV_BYTES);
  out.set(clear, 0);
  out.set(sealed, clear.length);
  out.set(iv, clear.length + sealed.length);
  return out.buffer;
}

/** Opens one sealed frame; rejects when the key is wrong or the frame is not one of ours. */
export async function openFrame(
  key: CryptoKey,
  kind: FrameKind,
  data: ArrayBuffer,
): Promise<ArrayBuffer> {
  const frame = new Uint8Array(data);
  const clearLength = clearBytes(kind, frame);
  if (frame.length < clearLength + TAG_BYTES + IV_BYTES) throw new Error('not a sealed frame');
  const clear = frame.subarray(0, clearLength);
  const iv = frame.subarray(frame.length - IV_BYTES);
  const plain = new Uint8Array(
    await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: clear },
      key,
      frame.subarray(clearLength, frame.length - IV_BYTES),
    ),
  );
  const out = new Uint8Array(clearLength + plain.length);
  out.set(clear, 0);
  out.set(plain, clearLength);
  return out.buffer;
}
