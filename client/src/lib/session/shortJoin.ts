import type { Device } from 'mediasoup-client';
import type { JoinMediaRequest, RtpCapabilities } from '@tutti/protocol';
import { e2eeCodecsOnly, loadDevice } from '../media/device.ts';
import { storage } from '../storage.ts';

/** What the lobby knew before the join: the server's router capabilities, the room's E2EE. */
export interface LobbyMedia {
  routerRtpCapabilities?: RtpCapabilities | undefined;
  e2ee?: boolean | undefined;
}

/**
 * The device for a one-reply join, loaded before `room.join` with the router capabilities
 * of the `lobby.subscribe` answer (the native ones are prewarmed, so this is computation).
 * null: the old path (no capabilities from the lobby, `tutti.joinPath` = classic, or the
 * device would not load — start() then reports why).
 */
export async function preloadDevice(lobby: LobbyMedia): Promise<Device | null> {
  const caps = lobby.routerRtpCapabilities;
  if (!caps || storage.joinPath === 'classic') return null;
  return loadDevice(lobby.e2ee ? e2eeCodecsOnly(caps) : caps).catch(() => null);
}

/** room.join's `media`: both transports (send when the device can) and the capabilities. */
export function shortJoinMedia(device: Device): JoinMediaRequest {
  const send = device.canProduce('audio') || device.canProduce('video');
  return {
    transports: send ? ['recv', 'send'] : ['recv'],
    rtpCapabilities: device.rtpCapabilities as RtpCapabilities,
  };
}
