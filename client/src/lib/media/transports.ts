import type { Device, types } from 'mediasoup-client';
import type { IceSettings, MediaSource, TransportOptions } from '@tutti/protocol';
import type { Signaling } from '../signaling.ts';
import { restartIceWhenStuck } from './ice.ts';
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
  onError: (message: string) => void,
): Promise<Transport> {
  const options: TransportOptions = await signaling.request('media.createTransport', {
    direction,
  });
  if (!isCurrent()) throw new Error('media restarted');
  return buildTransport(signaling, device, direction, options, ice, onError);
}

/**
 * A transport on the device from the server's parameters (a `media.createTransport` answer,
 * or the one-reply join's `media.send` / `media.recv`).
 */
export function buildTransport(
  signaling: Signaling,
  device: Device,
  direction: 'send' | 'recv',
  options: TransportOptions,
  ice: IceSettings,
  onError: (message: string) => void,
): Transport {
  const params: types.TransportOptions = {
    ...options,
    iceServers: ice.iceServers,
    iceTransportPolicy: ice.iceTransportPolicy,
    // Gather local candidates now: ICE can start as soon as the first m-line exists.
    additionalSettings: { iceCandidatePoolSize: 1 },
  };
  const transport =
    direction === 'send' ? device.createSendTransport(params) : device.createRecvTransport(params);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
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
  restartIceWhenStuck(transport, signaling, onError);
  return transport;
}
