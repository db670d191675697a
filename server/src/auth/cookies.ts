import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'tutti_session';
/** Binds a provider login to the browser that started it (path-scoped to /api/auth). */
export const FLOW_COOKIE = 'tutti_login';

/** Reads one cookie from the Cookie header. */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export interface CookieOptions {
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
  path?: string;
}

/**
 * Appends a Set-Cookie: always HttpOnly and SameSite=Lax (sent on top-level navigations,
 * which a provider's redirect back is; never on cross-site subrequests), Secure when the
 * request came over HTTPS (req.protocol honours server.trustProxy).
 */
export function setCookie(
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  value: string,
  opts: CookieOptions,
): void {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${opts.path ?? '/'}`,
    `Max-Age=${opts.maxAge}`,
    'HttpOnly',
    'SameSite=Lax',
  ];
  if (req.protocol === 'https') parts.push('Secure');
  const prev = reply.getHeader('set-cookie');
  const list = Array.isArray(prev) ? prev : typeof prev === 'string' ? [prev] : [];
  void reply.header('set-cookie', [...list, parts.join('; ')]);
}

export function clearCookie(
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  path = '/',
): void {
  setCookie(req, reply, name, '', { maxAge: 0, path });
}
