import type { FastifyReply } from 'fastify';
import type { ByteRange } from './Storage.ts';

/**
 * One `Range: bytes=…` against an object of `size` bytes. Returns undefined to serve the
 * whole object (no header, another unit, or several ranges — allowed by RFC 9110), or
 * 'unsatisfiable' for a 416.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, from = '', to = ''] = m;
  if (from === '' && to === '') return undefined;
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** The status and length of a reply that serves `range` of `size` bytes (all of it if none). */
export function replyRange(
  reply: FastifyReply,
  range: ByteRange | undefined,
  size: number,
): FastifyReply {
  if (!range) return reply.header('content-length', size);
  return reply
    .status(206)
    .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
    .header('content-length', range.end - range.start + 1);
}
