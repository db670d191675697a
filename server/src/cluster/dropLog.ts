import type { Logger } from '../kernel/log.ts';

/**
 * Logs a dropped bus message, at most once per interval: a flood of garbage on Redis must not
 * become a flood of log lines. The next line says how many were suppressed meanwhile.
 */
export function dropLogger(
  log: Logger,
  intervalMs = 1000,
): (reason: string, detail?: object) => void {
  let lastAt = 0;
  let suppressed = 0;
  return (reason, detail = {}) => {
    const now = Date.now();
    if (now - lastAt < intervalMs) {
      suppressed++;
      return;
    }
    log.warn({ ...detail, reason, suppressed }, 'cluster: dropped a bus message');
    lastAt = now;
    suppressed = 0;
  };
}
