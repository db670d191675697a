import type { FastifyRequest } from 'fastify';
import { TuttiError } from '@tutti/protocol';

/** The origin the browser used: server.publicUrl when set, else the request's scheme + host. */
export function requestOrigin(req: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return new URL(publicUrl).origin;
  return `${req.protocol}://${req.host}`;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF guard for state-changing requests (SameSite=Lax already keeps the cookie off
 * cross-site POSTs; this is the second lock). A browser always sends Origin on a POST,
 * PUT, PATCH or DELETE: it must be ours. Without Origin, a browser's Sec-Fetch-Site must say
 * same-origin; a request with neither header comes from no browser (curl, a backend) and
 * carries no ambient cookie worth forging.
 */
export function checkSameOrigin(req: FastifyRequest, publicUrl: string | undefined): void {
  if (SAFE_METHODS.has(req.method)) return;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const ours = new Set([requestOrigin(req, undefined), requestOrigin(req, publicUrl)]);
    if (!ours.has(origin)) throw new TuttiError('FORBIDDEN', 'cross-origin request refused');
    return;
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    throw new TuttiError('FORBIDDEN', 'cross-site request refused');
}
