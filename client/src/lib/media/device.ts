import { Device, type types } from 'mediasoup-client';
import type { RtpCapabilities } from '@tutti/protocol';
import { dtlsCertificate } from './certificate.ts';
import { fromServer } from './wire.ts';

type HandlerFactory = NonNullable<
  NonNullable<ConstructorParameters<typeof Device>[0]>['handlerFactory']
>;
let cachedFactory: HandlerFactory | null | undefined;

/**
 * The browser's mediasoup-client handler factory with its native RTP capabilities memoized:
 * Device.load() probes them with two throw-away RTCPeerConnections, which
 * `prewarmMedia()` does ahead of time (while the page connects and joins).
 */
function handlerFactory(): HandlerFactory | undefined {
  if (cachedFactory !== undefined) return cachedFactory ?? undefined;
  cachedFactory = null;
  try {
    const probe = new Device() as unknown as { _handlerFactory?: HandlerFactory };
    const inner = probe._handlerFactory;
    if (!inner || typeof inner.getNativeRtpCapabilities !== 'function') return undefined;
    const native = new Map<string, Promise<types.RtpCapabilities>>();
    cachedFactory = {
      ...inner,
      getNativeRtpCapabilities: (options) => {
        let caps = native.get(options.direction);
        if (!caps) {
          caps = inner.getNativeRtpCapabilities(options);
          native.set(options.direction, caps);
          caps.catch(() => native.delete(options.direction));
        }
        return caps;
      },
    };
  } catch {
    // Unsupported browser: Device() throws again in loadDevice() with a readable error.
  }
  return cachedFactory ?? undefined;
}

/**
 * Probes the browser's native RTP capabilities and makes the DTLS certificate
 * (certificate.ts) in the background (before room.join).
 */
export function prewarmMedia(): void {
  void dtlsCertificate();
  const factory = handlerFactory();
  if (!factory) return;
  for (const direction of ['recvonly', 'sendonly'] as const) {
    factory.getNativeRtpCapabilities({ direction }).catch(() => undefined);
  }
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
