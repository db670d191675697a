/**
 * E2EE keys (docs/e2ee.md). The passphrase never leaves the browser: it is stretched once
 * per room with PBKDF2 (a passphrase is not a key), then every sender gets its own AES-GCM
 * key per key epoch from HKDF over that secret, salted with the room id and bound to the
 * sender's id and the epoch, so the same passphrase in another room, another member's
 * frames, or another epoch never share a key (and one epoch's key reveals no other).
 * Plain WebCrypto: runs in the page, the transform worker and Node (the tests).
 */

const PBKDF2_ITERATIONS = 100_000;
const text = (s: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(s);

/** The room secret a passphrase gives (HKDF input keying material, not usable directly). */
export async function roomSecret(passphrase: string, roomId: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', text(passphrase), 'PBKDF2', false, [
    'deriveBits',
  ]);
  const bits = await crypto.subtle.deriveBits(
    {
      name: 'PBKDF2',
      hash: 'SHA-256',
      salt: text(`tutti-e2ee/room/${roomId}`),
      iterations: PBKDF2_ITERATIONS,
    },
    material,
    256,
  );
  return crypto.subtle.importKey('raw', bits, 'HKDF', false, ['deriveKey']);
}

/** The AES-GCM key of one sender (a member id) in the room, in one key epoch. */
export function senderKey(
  secret: CryptoKey,
  roomId: string,
  senderId: string,
  epoch: number,
): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: text(`tutti-e2ee/${roomId}`),
      info: text(`sender/${senderId}/epoch/${epoch}`),
    },
    secret,
    { name: 'AES-GCM', length: 128 },
    false,
    ['encrypt', 'decrypt'],
  );
}
