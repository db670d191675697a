import type { Router, WebRtcTransport } from 'mediasoup/types';
import type { TransportAppData } from './mediaTypes.ts';

/**
 * WebRtcTransports made ahead, one per router and direction, for the one-reply join: its
 * answer then waits for no worker round trip to create them (mediasoup's DTLS certificate is
 * made once per worker, so a transport is ICE credentials and a port). A router gets spares
 * only after its first one-reply join; they close with it.
 */
const spares = new WeakMap<Router, Map<string, Promise<WebRtcTransport<TransportAppData>>>>();

type Make = () => Promise<WebRtcTransport<TransportAppData>>;

/** A spare transport of `router` for `key` if one is ready (or being made), else a new one; a spare is made for the next join. */
export async function takeOrMake(
  router: Router,
  key: string,
  make: Make,
  appData: TransportAppData,
): Promise<WebRtcTransport<TransportAppData>> {
  let byKey = spares.get(router);
  if (!byKey) spares.set(router, (byKey = new Map()));
  const spare = byKey.get(key);
  byKey.delete(key);
  let transport = spare ? await spare.catch(() => undefined) : undefined;
  if (!transport || transport.closed) transport = await make();
  transport.appData = appData;
  if (!router.closed) {
    const next = make();
    next.catch(() => byKey.delete(key));
    byKey.set(key, next);
  }
  return transport;
}
