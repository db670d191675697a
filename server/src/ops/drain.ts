import type { Logger } from '../kernel/log.ts';
import type { MemberChannel } from '../rooms/ports.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';

/** Why a drain ended: every member left, or the grace period ran out first. */
export type DrainEnd = 'empty' | 'grace';

export interface DrainOptions {
  rooms: RoomRegistry;
  /** How long begin() waits for the members to leave (0: no drain, stop at once). */
  graceMs: number;
  log: Logger;
  /** How often it looks whether the members have gone. */
  pollMs?: number;
}

/** Upper bound of the random delay clients wait before reconnecting (spreads the herd). */
const MAX_RECONNECT_SPREAD_MS = 5_000;

/**
 * The SIGTERM drain of this node. `begin()`: from then on the node takes no new peers
 * (`draining` is read by /api/ready, the join gate and the socket gate), every member is told
 * `server.draining` (reconnect and rejoin, elsewhere behind a load balancer), and the promise
 * resolves once no member is left or the grace period ended. What else a drain must do (the
 * cluster: `registry.setDraining(true)`) registers with `onBegin`.
 */
export class Drain {
  readonly graceMs: number;
  /** Sent with `server.draining`: clients reconnect at a random moment within it. */
  readonly reconnectAfterMs: number;
  readonly #rooms: RoomRegistry;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #onBegin: (() => void)[] = [];
  #ended: Promise<DrainEnd> | undefined;
  #stopTimers: (() => void) | undefined;

  constructor(opts: DrainOptions) {
    this.graceMs = Math.max(0, opts.graceMs);
    this.reconnectAfterMs = Math.min(MAX_RECONNECT_SPREAD_MS, Math.floor(this.graceMs / 4));
    this.#rooms = opts.rooms;
    this.#log = opts.log;
    this.#pollMs = opts.pollMs ?? 100;
  }

  get draining(): boolean {
    return this.#ended !== undefined;
  }

  /** Members in rooms on this node, joins in flight included. */
  get peers(): number {
    let n = 0;
    for (const room of this.#rooms.rooms()) n += room.size + room.pendingJoins;
    return n;
  }

  /** Runs once when the drain begins (synchronously, inside begin()). */
  onBegin(fn: () => void): void {
    this.#onBegin.push(fn);
  }

  /** Starts the drain (idempotent: a second call returns the same promise). */
  begin(): Promise<DrainEnd> {
    if (this.#ended) return this.#ended;
    this.#ended = new Promise<DrainEnd>((resolve) => {
      const finish = (end: DrainEnd): void => {
        this.#stopTimers?.();
        resolve(end);
      };
      const poll = setInterval(() => {
        if (this.peers === 0) finish('empty');
      }, this.#pollMs);
      const grace = setTimeout(() => finish('grace'), this.graceMs);
      poll.unref();
      grace.unref();
      this.#stopTimers = () => {
        clearInterval(poll);
        clearTimeout(grace);
      };
    });
    for (const fn of this.#onBegin) {
      try {
        fn();
      } catch (err) {
        this.#log.error({ err }, 'drain hook failed');
      }
    }
    const notice = { reconnectAfterMs: this.reconnectAfterMs };
    for (const room of this.#rooms.rooms()) room.broadcast('server.draining', notice);
    this.#log.info(
      { peers: this.peers, graceSeconds: this.graceMs / 1000 },
      'draining: no new peers, members asked to reconnect',
    );
    return this.#ended;
  }

  /** A join that passed the gate just before the drain began: tell that member too. */
  tell(channel: MemberChannel): void {
    void channel.notify('server.draining', { reconnectAfterMs: this.reconnectAfterMs });
  }

  /** Stops the drain's timers (the app closes; the pending begin() promise stays pending). */
  close(): void {
    this.#stopTimers?.();
  }
}
