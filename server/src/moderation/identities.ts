import type { Logger } from '../kernel/log.ts';
import type { Identity } from '../rooms/admission.ts';

/**
 * Which account each signaling connection belongs to: looked up once from the session
 * cookie of its WebSocket upgrade (the client reconnects after logging in or out). A lookup
 * that fails (database down) counts as a guest: never more rights than proven.
 */
export class Identities {
  readonly #byConnection = new Map<string, Promise<Identity | null>>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** A connection opened; `lookup` resolves its session's user (or undefined). */
  opened(connectionId: string, lookup: Promise<{ id: string; name: string } | undefined>): void {
    this.#byConnection.set(
      connectionId,
      lookup.then(
        (user) => (user ? { accountId: user.id, name: user.name } : null),
        (err: unknown) => {
          this.#log.warn({ err, peerId: connectionId }, 'session lookup failed: a guest');
          return null;
        },
      ),
    );
  }

  of(connectionId: string): Promise<Identity | null> {
    return this.#byConnection.get(connectionId) ?? Promise.resolve(null);
  }

  /** A member resumed from another node on this connection: it is `to` from now on. */
  alias(from: string, to: string): void {
    this.#byConnection.set(to, this.of(from));
  }

  closed(connectionId: string): void {
    this.#byConnection.delete(connectionId);
  }
}
