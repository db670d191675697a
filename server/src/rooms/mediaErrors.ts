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

/**
 * A transport (or other object) being made on a member's router: if the member left meanwhile
 * (an emptied router closes with it) or the router's worker died, the request says so with a
 * code instead of failing as an internal error.
 */
export async function madeWhileWanted<T>(
  making: Promise<T>,
  router: { readonly closed: boolean },
  stillWanted: () => boolean,
): Promise<T> {
  try {
    return await making;
  } catch (err) {
    if (!stillWanted()) throw new TuttiError('NOT_JOINED', 'no longer in the room');
    if (router.closed) {
      throw new TuttiError('MEDIA_UNAVAILABLE', 'media server unavailable, try again shortly');
    }
    throw err;
  }
}
