import type { Consumer, Producer, RtpCapabilities, WebRtcTransport } from 'mediasoup/types';
import type { ConsumerAppData, ProducerAppData, TransportAppData } from './mediaTypes.ts';

/**
 * One member's media on one worker (MemberMedia's): replaced when the worker died
 * (everything on it is gone), and made only once the member uses media at all (four empty
 * collections are about 750 B, and a chat-only member never needs them).
 */
export interface Generation {
  rtpCapabilities: RtpCapabilities | undefined;
  transports: Map<string, WebRtcTransport<TransportAppData>>;
  producers: Map<string, Producer<ProducerAppData>>;
  consumers: Map<string, Consumer<ConsumerAppData>>;
  /** `transportId:producerId` of consumers being created (dedups concurrent attempts). */
  consuming: Set<string>;
}

export const freshGeneration = (): Generation => ({
  rtpCapabilities: undefined,
  transports: new Map(),
  producers: new Map(),
  consumers: new Map(),
  consuming: new Set(),
});
