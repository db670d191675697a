// Value shapes the config sections share: ports, durations, booleans and lists as they
// arrive from environment variables (strings) or from code.
import { isIP } from 'node:net';
import { z } from 'zod';

export const port = z.coerce.number().int().min(0).max(65535);
export const seconds = z.coerce.number().int().min(1);
export const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
]);

const proxyNames = new Set(['loopback', 'linklocal', 'uniquelocal']);
/** One proxy entry: an address, address/prefix, or a proxy-addr name. */
function isProxyEntry(entry: string): boolean {
  if (proxyNames.has(entry)) return true;
  const [ip, prefix, extra] = entry.split('/');
  const family = isIP(ip ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}
/** Comma-separated (or an array of) addresses or address/prefix CIDRs; may be empty. */
export const cidrList = z
  .union([z.array(z.string()), z.string().transform((v) => v.split(','))])
  .transform((list) => list.map((e) => e.trim()).filter(Boolean))
  .refine((list) => list.every((e) => !proxyNames.has(e) && isProxyEntry(e)), {
    message: 'comma-separated addresses or CIDRs (127.0.0.1, 10.0.0.0/8, ::1/128)',
  });
export const proxyList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
      .join(','),
  )
  .refine((v) => v !== '' && v.split(',').every(isProxyEntry), {
    message:
      'true, false, or comma-separated addresses/CIDRs (or loopback, linklocal, uniquelocal)',
  });

/** A JSON string (from an environment variable) is parsed; anything else passes through. */
export const json = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v; // The schema then reports "expected array" with the setting's name.
  }
};

/** A list from code/JSON, or a comma-separated string (from an environment variable). */
export const stringList = (item: z.ZodType<string, string>) =>
  z.union([
    z.array(item),
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      )
      .pipe(z.array(item)),
  ]);
