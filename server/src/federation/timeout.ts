import { TuttiError } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';

/** `work`, or a rejection once `ms` have passed (the work itself is not cancelled). */
export function bounded<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** A call to the cluster within `ms`; failing or late → MEDIA_UNAVAILABLE (503), logged. */
export function clusterCall<T>(
  work: Promise<T>,
  ms: number,
  log: Logger,
  what: string,
): Promise<T> {
  return bounded(work, ms).catch((err: unknown) => {
    if (err instanceof TuttiError) throw err;
    log.warn({ err }, `presence: ${what}`);
    throw new TuttiError('MEDIA_UNAVAILABLE', `${what}: the cluster is unavailable; try again`);
  });
}
