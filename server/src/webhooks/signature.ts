import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header every webhook POST carries: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'tutti-signature';

/** HMAC-SHA256 over `<t>.<raw body>` with the shared secret (hex). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export function signatureHeader(secret: string, body: string, now = Date.now()): string {
  const t = Math.floor(now / 1000);
  return `t=${t},v1=${signWebhook(secret, t, body)}`;
}

/**
 * What a receiver runs on the raw body: the signature must match and the timestamp be
 * within `toleranceSeconds` of now (a captured POST cannot be replayed later).
 */
export function verifyWebhook(
  secret: string,
  header: string | undefined,
  body: string,
  opts: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const t = Number(m[1]);
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  if (Math.abs(now - t) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, t, body), 'hex');
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}
