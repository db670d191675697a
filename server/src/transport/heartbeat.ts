/** The part of a `ws` socket the heartbeat needs. */
export interface PingableSocket {
  ping(): void;
  terminate(): void;
  /** Listeners run with the socket as `this` (an EventEmitter's do). */
  on(event: 'pong' | 'close', listener: (this: PingableSocket) => void): unknown;
}

/**
 * Finds sockets whose peer is gone without a FIN (a laptop lid shut, a NAT that forgot the
 * flow): every interval each socket is pinged, and one that has not answered the previous
 * ping is terminated, so a dead socket lasts at most two intervals. Browsers answer pings
 * by themselves. One timer for all sockets.
 */
export class Heartbeat {
  /** Socket → has it answered since the last ping? */
  readonly #answered = new Map<PingableSocket, boolean>();
  readonly #timer: NodeJS.Timeout;
  readonly #onDead: (socket: PingableSocket) => void;
  /** Shared by every socket (each gets itself as `this`): no closures per socket. */
  readonly #onPong: (this: PingableSocket) => void;
  readonly #onClose: (this: PingableSocket) => void;

  constructor(intervalMs: number, onDead: (socket: PingableSocket) => void = () => {}) {
    this.#onDead = onDead;
    const answered = this.#answered;
    this.#onPong = function () {
      if (answered.has(this)) answered.set(this, true);
    };
    this.#onClose = function () {
      answered.delete(this);
    };
    this.#timer = setInterval(() => this.#beat(), intervalMs);
    this.#timer.unref();
  }

  watch(socket: PingableSocket): void {
    this.#answered.set(socket, true);
    socket.on('pong', this.#onPong);
    socket.on('close', this.#onClose);
  }

  get size(): number {
    return this.#answered.size;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#answered.clear();
  }

  #beat(): void {
    for (const [socket, answered] of this.#answered) {
      if (!answered) {
        this.#answered.delete(socket);
        this.#onDead(socket);
        socket.terminate();
        continue;
      }
      this.#answered.set(socket, false);
      try {
        socket.ping();
      } catch {
        // Not open (any more): its 'close' removes it.
      }
    }
  }
}
