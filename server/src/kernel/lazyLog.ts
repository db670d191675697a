import type { Logger } from './log.ts';

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * `parent.child(bindings)`, made only when something is logged at an enabled level: a pino
 * child costs about 250 B (its own bindings string, formatters, level methods), and the
 * loggers made per connection or per member of an idle room mostly never write a line.
 */
class LazyChildLogger implements Logger {
  readonly #parent: Logger;
  readonly #bindings: Record<string, unknown>;
  #made: Logger | undefined;

  constructor(parent: Logger, bindings: Record<string, unknown>) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  debug(obj: object, msg?: string): void {
    this.#write('debug', obj, msg);
  }

  info(obj: object, msg?: string): void {
    this.#write('info', obj, msg);
  }

  warn(obj: object, msg?: string): void {
    this.#write('warn', obj, msg);
  }

  error(obj: object, msg?: string): void {
    this.#write('error', obj, msg);
  }

  /** Still lazy: the bindings merged (pino would print both sets, the later ones last). */
  child(bindings: Record<string, unknown>): Logger {
    if (this.#made) return this.#made.child(bindings);
    return new LazyChildLogger(this.#parent, { ...this.#bindings, ...bindings });
  }

  isLevelEnabled(level: string): boolean {
    return this.#parent.isLevelEnabled?.(level) ?? true;
  }

  #write(level: Level, obj: object, msg: string | undefined): void {
    if (!this.#made && this.#parent.isLevelEnabled?.(level) === false) return;
    this.#made ??= this.#parent.child(this.#bindings);
    if (msg === undefined) this.#made[level](obj);
    else this.#made[level](obj, msg);
  }
}

export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  return new LazyChildLogger(parent, bindings);
}
