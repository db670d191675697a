import { Transform, type TransformCallback } from 'node:stream';
import { TuttiError } from '@tutti/protocol';

/**
 * Pass-through that fails with UNAVAILABLE when its source goes silent for `ms` while the
 * consumer is waiting for bytes (a store that stops mid-download). A slow consumer is not a
 * stall: while our buffers are full, the clock does not run.
 */
export function stallGuard(ms: number, what: string): Transform {
  let last = Date.now();
  const guard = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      last = Date.now();
      done(null, chunk);
    },
    flush(done: TransformCallback) {
      clearInterval(timer);
      done();
    },
  });
  const timer = setInterval(
    () => {
      const backpressured =
        guard.writableLength > 0 || guard.readableLength >= guard.readableHighWaterMark;
      if (backpressured) last = Date.now();
      else if (Date.now() - last > ms) {
        clearInterval(timer);
        guard.destroy(new TuttiError('UNAVAILABLE', `${what}: no bytes for ${ms} ms`));
      }
    },
    Math.max(25, Math.floor(ms / 4)),
  );
  timer.unref();
  guard.once('close', () => clearInterval(timer));
  return guard;
}
