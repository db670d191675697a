/**
 * Fewer socket writes for busy sockets (issue 12): at 1 000 peers one write syscall per
 * recipient per chat message was the largest cost of the fan-out. A socket is corked while
 * frames are handed to it and uncorked when they are due; Node then writes everything queued
 * in one writev. Due is the end of the current tick, unless the server is busy (it hands over
 * at least `busyFramesPerSecond` frames a second, all sockets together) and the socket wrote
 * less than `holdMs` ago: then `holdMs` after that write. So a busy socket on a busy server
 * writes at most once per `holdMs`, no frame waits longer than that, and an idle room (or a
 * server with the CPU to spare) gets each message at once. Every frame of a socket goes
 * through the same cork (ws's own, pings and close included), so they leave in the order they
 * were handed over. One nextTick and one timer per batch of sockets, not per socket.
 */

/** The part of a net.Socket the coalescer drives. */
export interface CorkableSocket {
  cork(): void;
  uncork(): void;
}

const THIS_TICK = -1;
const NOT_CORKED = -2;
/** The server's frame rate is taken over windows this long (ms). */
const RATE_WINDOW_MS = 250;

export interface CoalescerOptions {
  /** The longest a frame is held, ms; 0: never held (each tick's frames at its end). */
  holdMs: number;
  /** Frames handed over per second (all sockets) from which busy sockets are held. */
  busyFramesPerSecond: number;
  /** The clock (ms); a test's own. */
  now?: () => number;
}

/** One socket's place in the coalescer (its transport owns it). */
export class CoalescedSocket {
  readonly socket: CorkableSocket;
  /** When (coalescer clock, ms) its frames last went to the kernel. */
  lastFlush = -Infinity;
  /** NOT_CORKED, THIS_TICK, or the due time of the held batch it waits in. */
  due = NOT_CORKED;

  constructor(socket: CorkableSocket) {
    this.socket = socket;
  }
}

export class WriteCoalescer {
  readonly #holdMs: number;
  readonly #busyFramesPerSecond: number;
  readonly #now: () => number;
  #thisTick: CoalescedSocket[] = [];
  /** Held batches by due time (whole ms): sockets flushed together are due together. */
  readonly #held = new Map<number, CoalescedSocket[]>();
  /** Frames handed over since #windowStart; whether the last window was busy. */
  #frames = 0;
  #windowStart = -Infinity;
  #busy = false;

  constructor(opts: CoalescerOptions) {
    this.#holdMs = opts.holdMs;
    this.#busyFramesPerSecond = opts.busyFramesPerSecond;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Never holds: each socket's frames of one tick leave together at its end. */
  static perTick(): WriteCoalescer {
    return new WriteCoalescer({ holdMs: 0, busyFramesPerSecond: Infinity });
  }

  /**
   * A frame is about to be handed to the socket: cork it until due. `urgent` (an answer
   * someone waits on, a close): due at the end of this tick even if the socket is busy;
   * what is held already goes with it, in order.
   */
  hold(entry: CoalescedSocket, urgent = false): void {
    this.#frames++;
    if (entry.due === THIS_TICK) return;
    if (entry.due !== NOT_CORKED) {
      // Held in a batch: an urgent frame takes it along now (the batch then skips it).
      if (urgent) this.#dueThisTick(entry);
      return;
    }
    entry.socket.cork();
    const now = this.#now();
    if (urgent || !this.#serverBusy(now) || now - entry.lastFlush >= this.#holdMs) {
      this.#dueThisTick(entry);
      return;
    }
    const due = Math.ceil(entry.lastFlush + this.#holdMs);
    entry.due = due;
    let batch = this.#held.get(due);
    if (!batch) {
      const created: CoalescedSocket[] = [];
      batch = created;
      this.#held.set(due, created);
      // Unref'd: held frames are no reason to keep a process alive (its sockets are).
      setTimeout(() => {
        this.#held.delete(due);
        this.#flush(created, due);
      }, due - now).unref();
    }
    batch.push(entry);
  }

  /**
   * Whether the last window (≥ RATE_WINDOW_MS, since the previous check) handed over frames at
   * the busy rate or more (half of it, once busy): a quiet spell spreads the count over its
   * length.
   */
  #serverBusy(now: number): boolean {
    if (this.#holdMs <= 0) return false;
    if (this.#busyFramesPerSecond <= 0) return true;
    const elapsed = now - this.#windowStart;
    if (elapsed >= RATE_WINDOW_MS) {
      // Busy until the rate falls to half: a server that falls behind hands over fewer frames
      // a second, and writing them one by one again would put it further behind.
      const threshold = this.#busy ? this.#busyFramesPerSecond / 2 : this.#busyFramesPerSecond;
      this.#busy = (this.#frames * 1000) / elapsed >= threshold;
      this.#frames = 0;
      this.#windowStart = now;
    }
    return this.#busy;
  }

  #dueThisTick(entry: CoalescedSocket): void {
    entry.due = THIS_TICK;
    if (this.#thisTick.length === 0) {
      // After the current tick's work, its promise reactions included.
      process.nextTick(() => {
        const sockets = this.#thisTick;
        this.#thisTick = [];
        this.#flush(sockets, THIS_TICK);
      });
    }
    this.#thisTick.push(entry);
  }

  #flush(sockets: readonly CoalescedSocket[], due: number): void {
    const now = this.#now();
    for (const entry of sockets) {
      // Taken along by an urgent frame, or corked again since: not this batch's.
      if (entry.due !== due) continue;
      entry.due = NOT_CORKED;
      entry.lastFlush = now;
      try {
        entry.socket.uncork();
      } catch {
        // A socket torn down under us: its 'close' does the clean-up.
      }
    }
  }
}
