import { Device, type types } from 'mediasoup-client';

export type HandlerFactory = NonNullable<
  NonNullable<ConstructorParameters<typeof Device>[0]>['handlerFactory']
>;
let cachedFactory: HandlerFactory | null | undefined;

/**
 * The browser's mediasoup-client handler factory with its native RTP capabilities memoized:
 * Device.load() probes them with two throw-away RTCPeerConnections, which
 * `probeNativeCaps()` does ahead of time (while the page connects and joins). A chunk of
 * its own (with mediasoup-client): a shared link's boot.ts starts it as soon as its
 * `lobby.subscribe` is on the wire, not after the room chunk is evaluated.
 */
export function handlerFactory(): HandlerFactory | undefined {
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

/** Probes the browser's native RTP capabilities in the background (once). */
export function probeNativeCaps(): void {
  const factory = handlerFactory();
  if (!factory) return;
  for (const direction of ['recvonly', 'sendonly'] as const) {
    factory.getNativeRtpCapabilities({ direction }).catch(() => undefined);
  }
}
