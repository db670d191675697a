import type { Device } from 'mediasoup-client';
import type { JoinDtlsParameters, JoinMediaRequest, RtpCapabilities } from '@tutti/protocol';
import { dtlsCertificate, joinDtlsParameters } from '../media/certificate.ts';
import { e2eeCodecsOnly, loadDevice } from '../media/device.ts';
import { storage } from '../storage.ts';

/** What the lobby knew before the join: the server's router capabilities, the room's E2EE. */
export interface LobbyMedia {
  routerRtpCapabilities?: RtpCapabilities | undefined;
  e2ee?: boolean | undefined;
}

/** What a one-reply join prepared before `room.join`. */
export interface ShortJoin {
  device: Device;
  /** The page's certificate and its parameters, sent with the join (null: not sent). */
  dtls: { certificate: RTCCertificate; parameters: JoinDtlsParameters } | null;
  /** bench:join's 'short-render-first': the room view before the consumers are set up. */
  renderFirst: boolean;
}

/**
 * The device for a one-reply join, loaded before `room.join` with the router capabilities
 * of the `lobby.subscribe` answer (the native ones are prewarmed, so this is computation),
 * and the DTLS certificate made ahead (certificate.ts).
 * null: the old path (no capabilities from the lobby, `tutti.joinPath` = classic, or the
 * device would not load — start() then reports why).
 */
export async function prepareShortJoin(lobby: LobbyMedia): Promise<ShortJoin | null> {
  const caps = lobby.routerRtpCapabilities;
  const path = storage.joinPath;
  if (!caps || path === 'classic') return null;
  const [device, certificate] = await Promise.all([
    loadDevice(lobby.e2ee ? e2eeCodecsOnly(caps) : caps).catch(() => null),
    path === 'short-connect' ? null : dtlsCertificate(),
  ]);
  if (!device) return null;
  const parameters = certificate && joinDtlsParameters(certificate);
  return {
    device,
    dtls: certificate && parameters ? { certificate, parameters } : null,
    renderFirst: path === 'short-render-first',
  };
}

/** room.join's `media`: both transports (send when the device can), capabilities, DTLS. */
export function shortJoinMedia({ device, dtls }: ShortJoin): JoinMediaRequest {
  const send = device.canProduce('audio') || device.canProduce('video');
  return {
    transports: send ? ['recv', 'send'] : ['recv'],
    rtpCapabilities: device.rtpCapabilities as RtpCapabilities,
    ...(dtls && { dtlsParameters: dtls.parameters }),
  };
}
