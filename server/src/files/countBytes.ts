import { Transform } from 'node:stream';

/** Pass-through that counts what flows, so drivers report the stored size. */
export function countBytes(): Transform & { bytes: number } {
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      t.bytes += chunk.length;
      done(null, chunk);
    },
  }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}
