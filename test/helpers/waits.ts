import { errorCodeOf } from '@tutti/protocol';

// The waits the integration tests share: a pause, a condition polled until it holds, a call
// retried until it succeeds, and what a request settled as.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every `everyMs` until it holds; throws `timed out waiting for <what>`. */
export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 8000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Calls `fn` until it resolves (every `everyMs`, for at most `timeoutMs`): its value. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T>,
  timeoutMs = 8000,
  everyMs = 250,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      await sleep(everyMs);
    }
  }
  throw new Error(`${what}: not within ${timeoutMs} ms: ${String(last)}`);
}

/** The error code a request was refused with, or 'resolved' if it was answered. */
export async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return errorCodeOf(err);
  }
}
