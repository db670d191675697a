import type { JoinDtlsParameters } from '@tutti/protocol';
import { takeEarlyCertificate } from '../../boot.ts';

/**
 * The DTLS certificate of this page's transports, generated ahead (while the socket
 * connects, see prewarmMedia): its fingerprint goes with room.join, the server connects the
 * join's transports with it, and the RTCPeerConnections use it (`certificates`), so their
 * `connect` events need no round trip. Kept for the page's life only (a stored one would be
 * an identifier across visits); a new one once it nears its expiry.
 */
let made: Promise<RTCCertificate | null> | undefined;

const MARGIN_MS = 60 * 60 * 1000;

function generate(): Promise<RTCCertificate | null> {
  if (
    typeof RTCPeerConnection === 'undefined' ||
    typeof RTCPeerConnection.generateCertificate !== 'function'
  ) {
    return Promise.resolve(null);
  }
  // ECDSA P-256: what Chromium and Firefox make for themselves, a few ms.
  const algorithm: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
  return RTCPeerConnection.generateCertificate(algorithm).catch(() => null);
}

/** The page's certificate (null: the browser cannot make one; joins then connect as before). */
export async function dtlsCertificate(): Promise<RTCCertificate | null> {
  // A shared link's page started it in boot.ts, before the app's chunks were evaluated.
  made ??= takeEarlyCertificate() ?? generate();
  const cert = await made;
  if (cert && cert.expires - Date.now() < MARGIN_MS) {
    made = generate();
    return made;
  }
  return cert;
}

/** room.join's `media.dtlsParameters` for `cert`: its SHA-256 fingerprint, as SDP writes it. */
export function joinDtlsParameters(cert: RTCCertificate): JoinDtlsParameters | null {
  const fingerprints = cert
    .getFingerprints()
    .filter((f) => f.algorithm?.toLowerCase() === 'sha-256' && f.value)
    .map((f) => ({ algorithm: 'sha-256' as const, value: (f.value ?? '').toUpperCase() }));
  return fingerprints.length > 0 ? { role: 'client', fingerprints } : null;
}

/**
 * Whether the DTLS parameters a transport's `connect` event gives are the ones the join
 * sent (the same certificate, the client role): then the server has them already.
 */
export function sameDtls(
  local: { role?: string; fingerprints: { algorithm: string; value: string }[] },
  sent: JoinDtlsParameters,
): boolean {
  if (local.role !== undefined && local.role !== sent.role) return false;
  return sent.fingerprints.every((s) =>
    local.fingerprints.some(
      (f) => f.algorithm.toLowerCase() === s.algorithm && f.value.toUpperCase() === s.value,
    ),
  );
}
