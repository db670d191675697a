import { Device, type types } from 'mediasoup-client';
import { Chrome111 } from 'mediasoup-client/handlers/Chrome111';
import { parse as parseSdp } from 'sdp-transform';
import type { RtpCapabilities } from '@tutti/protocol';
import { takeEarlyProbe } from '../../boot.ts';
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
          caps = fromBootProbe(inner, options.direction) ?? inner.getNativeRtpCapabilities(options);
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

type Direction = Parameters<HandlerFactory['getNativeRtpCapabilities']>[0]['direction'];

type ReadLocalSdp = (sdp: ReturnType<typeof parseSdp>) => types.RtpCapabilities;

/** The Chrome111 handler's own SDP reading (private in its typings, so looked up with care). */
const readLocalSdp = (Chrome111 as unknown as { getLocalRtpCapabilities?: ReadLocalSdp })
  .getLocalRtpCapabilities;

/**
 * The native capabilities from the probe offer boot.ts made (a shared link's page), read
 * by the handler that would have made it; undefined: none, or another handler. A refused
 * boot probe falls back to the handler's own.
 */
function fromBootProbe(
  inner: HandlerFactory,
  direction: Direction,
): Promise<types.RtpCapabilities> | undefined {
  if (inner.name !== 'Chrome111' || typeof readLocalSdp !== 'function') return;
  const offer = takeEarlyProbe(direction);
  if (!offer) return;
  const own = () => inner.getNativeRtpCapabilities({ direction });
  return offer
    .then((sdp) => (sdp ? readLocalSdp.call(Chrome111, parseSdp(sdp)) : own()))
    .catch(own);
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
