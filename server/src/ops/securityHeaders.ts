import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';

// Issue #10 item 9: a CSP that forbids framing and foreign scripts, no referrer, nosniff.
// What the client needs and the policy allows: its own bundle and modulepreload
// (script-src 'self'), workers (worker-src 'self' blob:), chat image previews from object
// URLs (img-src blob:), media elements (srcObject is not subject to CSP; media-src covers
// blob: URLs), Svelte's inline style attributes (style-src 'unsafe-inline'), and the
// signaling WebSocket to the page's own origin (connect-src 'self' plus ws:/wss: of the
// Host, which older engines do not fold into 'self').

/** A Host header we are willing to echo into the policy: hostname or [IPv6], optional port. */
const SAFE_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function sameOriginSockets(req: IncomingMessage): string {
  const host = req.headers.host;
  return host && SAFE_HOST.test(host) ? `ws://${host} wss://${host}` : '';
}

export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'blob:', 'data:'],
  'media-src': ["'self'", 'blob:'],
  'font-src': ["'self'", 'data:'],
  'worker-src': ["'self'", 'blob:'],
  'connect-src': ["'self'", sameOriginSockets],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * Security headers on every response (pages, assets, API). Routes may set stricter ones
 * themselves (file downloads send `default-src 'none'; sandbox`). Call on the root app
 * before the other plugins register, so its hook runs for all of them.
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    // No upgrade-insecure-requests: plain HTTP on PORT must keep working (LAN, tests).
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    referrerPolicy: { policy: 'no-referrer' },
    // HSTS would pin browsers to HTTPS on a host whose certificate is self-signed (and the
    // plain port would stop working for them); a TLS proxy in front may add it.
    strictTransportSecurity: false,
    // Media elements and images are same-origin; no cross-origin isolation needed.
    crossOriginEmbedderPolicy: false,
  });
}
