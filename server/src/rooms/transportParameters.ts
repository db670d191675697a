import type { TransportOptions } from '@tutti/protocol';
import type { WebRtcTransport } from 'mediasoup/types';

/** What a client needs to open its end of a WebRtcTransport (the wire's TransportOptions). */
export function transportParameters(transport: WebRtcTransport): TransportOptions {
  return {
    id: transport.id,
    iceParameters: transport.iceParameters,
    iceCandidates: transport.iceCandidates,
    dtlsParameters: transport.dtlsParameters,
  };
}
