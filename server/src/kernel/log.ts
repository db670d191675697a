/**
 * The one logger shape every module takes (pino's, as Fastify's `app.log` is). Modules bind
 * their context once with `child` (`log.child({ roomId })`, then `.child({ peerId })`)
 * instead of repeating ids in every call.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
  /** pino has it: whether a call at `level` would write anything. */
  isLevelEnabled?(level: string): boolean;
}

/** A logger that drops everything (unit tests, tools). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
