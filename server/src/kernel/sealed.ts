import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { safeParseInput } from '@tutti/protocol/schemas';

// Signed payloads between the nodes of a cluster (chat bus, presence bus, cluster RPC).
// Anyone who reaches Redis can publish; only a node that knows the cluster secret
// (files.secret) can sign. On the wire: `{"m": <the body's JSON>, "s": <HMAC-SHA256, hex>}`.

/**
 * A key of its own for one use (`purpose`, e.g. "chat bus v1"), derived from the cluster
 * secret by HKDF: a signature made for one use never passes for another, nor for a file token.
 */
export function deriveKey(secret: string | Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'tutti', purpose, 32));
}

/**
 * Stands in for the cluster secret when none is configured: random, one per process, so
 * the nodes of one process (a single node, the "nodes" of a test) trust each other and no
 * other process is trusted.
 */
export const PROCESS_SECRET: Buffer = randomBytes(32);

const envelopeSchema = z.object({ m: z.string(), s: z.string().regex(/^[0-9a-f]{64}$/) });

const mac = (key: Buffer, body: string): Buffer => createHmac('sha256', key).update(body).digest();

/** The payload to publish: `body` (any JSON value) signed with `key`. */
export function seal(body: unknown, key: Buffer): string {
  const m = JSON.stringify(body);
  return JSON.stringify({ m, s: mac(key, m).toString('hex') });
}

/** Why a payload was not opened. */
export type UnsealFailure = 'not signed' | 'bad signature' | 'invalid JSON';

/**
 * The signed body of a payload (parsed JSON, still to be validated by its schema), or why
 * it was dropped. The signature is compared in constant time.
 */
export function unseal(payload: string, key: Buffer): { body: unknown } | UnsealFailure {
  const envelope = safeParseInput(envelopeSchema, parseJson(payload));
  if (!envelope.success) return 'not signed';
  const { m, s } = envelope.data;
  if (!timingSafeEqual(mac(key, m), Buffer.from(s, 'hex'))) return 'bad signature';
  const body = parseJson(m);
  return body === undefined ? 'invalid JSON' : { body };
}

/** JSON.parse that answers undefined instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
