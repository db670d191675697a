import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4 } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { TuttiError } from '@tutti/protocol';

export interface OpsAccessOptions {
  /** `Authorization: Bearer <token>` lets a request in from anywhere. */
  token?: string;
  /** Client addresses or CIDRs (req.ip, so after trustProxy) let in without the token. */
  allowIps: readonly string[];
}

/**
 * The guard of the operator endpoints (/metrics, /api/health/detail: worker pids, CPU,
 * room counts): an onRequest hook that lets a request through with the metrics token or from
 * an allowed address, and answers everything else 403 `FORBIDDEN`.
 */
export function opsAccessGuard(opts: OpsAccessOptions): (req: FastifyRequest) => Promise<void> {
  const allowed = addressMatcher(opts.allowIps);
  const tokenDigest = opts.token === undefined ? undefined : digest(opts.token);

  return async (req) => {
    if (tokenDigest && bearerMatches(req.headers.authorization, tokenDigest)) return;
    if (allowed(req.ip)) return;
    throw new TuttiError('FORBIDDEN', 'operator endpoint: send the metrics token');
  };
}

/**
 * Whether a client address (req.ip) is one of `allowIps` (addresses or CIDRs, IPv4 or IPv6;
 * an IPv4-mapped IPv6 address counts as its IPv4 one). Shared by every allow list.
 */
export function addressMatcher(allowIps: readonly string[]): (ip: string) => boolean {
  const allowed = new BlockList();
  for (const entry of allowIps) {
    const [ip = '', prefix] = entry.split('/');
    const type = isIPv4(ip) ? 'ipv4' : 'ipv6';
    if (prefix === undefined) allowed.addAddress(ip, type);
    else allowed.addSubnet(ip, Number(prefix), type);
  }
  return (ip) => addressAllowed(allowed, ip);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  // Digests have one length, so the comparison takes the same time for every guess.
  return m !== null && timingSafeEqual(digest(m[1]!), expected);
}

function addressAllowed(allowed: BlockList, ip: string): boolean {
  // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d.
  const address = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] ?? ip;
  try {
    return allowed.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
  } catch {
    return false; // Not an address at all.
  }
}
