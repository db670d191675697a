import { TuttiError } from '@tutti/protocol';

/**
 * Runs a worker call on a producer/consumer that may close while it runs (its producer
 * closed, its transport was replaced, the member left, the worker died): the object is
 * gone then — NOT_FOUND, like asking for an unknown id — rather than an internal error.
 */
export async function whileOpen(
  obj: { readonly closed: boolean },
  what: 'producer' | 'consumer',
  fn: () => Promise<void>,
): Promise<void> {
  try {
    await fn();
  } catch (err) {
    // The worker may answer "not found" before its close notification reached us; a dead
    // worker aborts pending requests. Both mean the object is gone.
    const gone =
      err instanceof Error && (err.name === 'NotFoundError' || err.name === 'WorkerClosedError');
    if (obj.closed || gone) throw new TuttiError('NOT_FOUND', `${what} not found`);
    throw err;
  }
}

/** mediasoup rejects bad client input with TypeError/Error; surface it as INVALID_REQUEST. */
export async function mediasoupCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TuttiError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new TuttiError('INVALID_REQUEST', msg.slice(0, 300));
  }
}
