import { Device } from 'mediasoup-client';
import type { RtpCapabilities } from '@tutti/protocol';
import { dtlsCertificate } from './certificate.ts';
import { handlerFactory, probeNativeCaps } from './nativeCaps.ts';
import { fromServer } from './wire.ts';

/**
 * Probes the browser's native RTP capabilities and makes the DTLS certificate
 * (certificate.ts) in the background (before room.join).
 */
export function prewarmMedia(): void {
  void dtlsCertificate();
  probeNativeCaps();
}

/** A Device loaded with the router's capabilities, reusing the prewarmed native ones. */
export async function loadDevice(routerRtpCapabilities: RtpCapabilities): Promise<Device> {
  const factory = handlerFactory();
  const device = new Device(factory ? { handlerFactory: factory } : undefined);
  await device.load({ routerRtpCapabilities: fromServer(routerRtpCapabilities) });
  return device;
}

/**
 * The router's capabilities cut to VP8 and Opus (with their RTX): what an E2EE room carries,
 * since only their header bytes are left clear by the frame encryption (lib/e2ee/frame.ts).
 */
export function e2eeCodecsOnly(caps: RtpCapabilities): RtpCapabilities {
  const media = (caps.codecs ?? []).filter((c) => /^(audio\/opus|video\/vp8)$/i.test(c.mimeType));
  const kept = new Set(media.map((c) => c.preferredPayloadType));
  const codecs = (caps.codecs ?? []).filter(
    (c) =>
      media.includes(c) || (/\/rtx$/i.test(c.mimeType) && kept.has(Number(c.parameters?.['apt']))),
  );
  return { ...caps, codecs };
}
