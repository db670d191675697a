import type { DtlsParameters, WebRtcTransport } from 'mediasoup/types';
import { TuttiError } from '@tutti/protocol';
import { mediasoupCall } from './mediaErrors.ts';

/**
 * `transport.connect()` at most once per transport, by whoever comes first: the one-reply
 * join (with the DTLS parameters the client sent ahead) or `media.connectTransport`. A
 * second call with the same parameters (a client whose `connect` event still asks, a
 * retry) waits for the first and succeeds; other parameters are refused (mediasoup takes
 * one remote fingerprint per transport).
 */
const connects = new WeakMap<WebRtcTransport, { key: string; done: Promise<void> }>();

/** Role and fingerprints, in a form two equal parameter sets share. */
function keyOf(d: DtlsParameters): string {
  const fps = d.fingerprints.map((f) => `${f.algorithm} ${f.value.toUpperCase()}`).sort();
  return `${d.role ?? 'auto'}|${fps.join(',')}`;
}

export async function connectOnce(
  transport: WebRtcTransport,
  dtlsParameters: DtlsParameters,
): Promise<void> {
  const key = keyOf(dtlsParameters);
  const before = connects.get(transport);
  if (before) {
    if (before.key !== key) {
      throw new TuttiError(
        'INVALID_REQUEST',
        'transport already connected (other DTLS parameters)',
      );
    }
    return before.done;
  }
  const done = mediasoupCall(() => transport.connect({ dtlsParameters }));
  connects.set(transport, { key, done });
  // A connect the worker refused can be tried again (with other parameters too).
  done.catch(() => connects.delete(transport));
  return done;
}
