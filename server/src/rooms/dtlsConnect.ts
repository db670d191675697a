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

/**
 * Role and fingerprints, in a form two equal parameter sets share; undefined when they are
 * not fingerprints at all (media.connectTransport's schema leaves their check to mediasoup).
 */
function keyOf(d: DtlsParameters): string | undefined {
  const list: unknown = d.fingerprints;
  if (!Array.isArray(list)) return undefined;
  const fps: string[] = [];
  for (const f of list as unknown[]) {
    const { algorithm, value } = (f ?? {}) as { algorithm?: unknown; value?: unknown };
    if (typeof algorithm !== 'string' || typeof value !== 'string') return undefined;
    fps.push(`${algorithm} ${value.toUpperCase()}`);
  }
  return `${typeof d.role === 'string' ? d.role : 'auto'}|${fps.sort().join(',')}`;
}

export async function connectOnce(
  transport: WebRtcTransport,
  dtlsParameters: DtlsParameters,
): Promise<void> {
  const key = keyOf(dtlsParameters);
  if (key === undefined) {
    throw new TuttiError('INVALID_REQUEST', 'dtlsParameters: fingerprints of { algorithm, value }');
  }
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
