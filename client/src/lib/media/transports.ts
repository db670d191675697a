import type { Device, types } from 'mediasoup-client';
import type {
  IceSettings,
  JoinDtlsParameters,
  MediaSource,
  TransportOptions,
} from '@tutti/protocol';
import { sameDtls } from './certificate.ts';
import type { Signaling } from '../signaling.ts';
import { restartIceWhenStuck, type IceWatchEvents } from './ice.ts';
import type { Transport } from './types.ts';

/**
 * Asks the server for a transport (`media.createTransport`) and builds it on the device,
 * wired to `media.connectTransport`, `media.produce` (send) and ICE restarts. `ice` (from
 * the join answer) adds STUN/TURN servers and the relay-only policy. Throws
 * 'media restarted' when `isCurrent()` says a reset came while the request was out.
 */
export async function openTransport(
  signaling: Signaling,
  device: Device,
  direction: 'send' | 'recv',
  ice: IceSettings,
  isCurrent: () => boolean,
  events: IceWatchEvents,
): Promise<Transport> {
  const options: TransportOptions = await signaling.request('media.createTransport', {
    direction,
  });
  if (!isCurrent()) throw new Error('media restarted');
  return buildTransport(signaling, device, direction, options, ice, events);
}

/** A one-reply join's DTLS set-up: the page's certificate, and what the server connected with. */
export interface DtlsAhead {
  certificate: RTCCertificate;
  /** The parameters the join sent, when the server connected this transport with them. */
  connected: JoinDtlsParameters | null;
}

/**
 * A transport on the device from the server's parameters (a `media.createTransport` answer,
 * or the one-reply join's `media.send` / `media.recv`). `ahead`: its PeerConnection uses
 * the certificate made ahead and, when the join connected it, its `connect` event answers
 * here without media.connectTransport (ICE then starts without waiting for a round trip).
 */
export function buildTransport(
  signaling: Signaling,
  device: Device,
  direction: 'send' | 'recv',
  options: TransportOptions,
  ice: IceSettings,
  events: IceWatchEvents,
  ahead?: DtlsAhead,
): Transport {
  const params: types.TransportOptions = {
    ...options,
    iceServers: ice.iceServers,
    iceTransportPolicy: ice.iceTransportPolicy,
    // Gather local candidates now: ICE can start as soon as the first m-line exists.
    additionalSettings: {
      iceCandidatePoolSize: 1,
      ...(ahead && { certificates: [ahead.certificate] }),
    },
  };
  const transport =
    direction === 'send' ? device.createSendTransport(params) : device.createRecvTransport(params);
  const watch = restartIceWhenStuck(transport, signaling, events, ice.iceTransportPolicy);
  // 'connect' comes with the transport's first m-line: from then on its ICE must start.
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    watch.started();
    if (ahead?.connected && sameDtls(dtlsParameters, ahead.connected)) {
      callback();
      return;
    }
    // Not connected by the join (or not with these parameters: the server then says so).
    signaling
      .request('media.connectTransport', { transportId: transport.id, dtlsParameters })
      .then(() => callback(), errback);
  });
  if (direction === 'send') {
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      signaling
        .request('media.produce', {
          transportId: transport.id,
          kind,
          rtpParameters,
          source: appData['source'] as MediaSource,
          paused: appData['paused'] === true,
        })
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });
  }
  return transport;
}
