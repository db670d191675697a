export interface HashGateOptions {
  /** Hashes running at once over all keys (each takes one libuv threadpool thread). */
  maxRunning: number;
  /** Tasks of one key waiting for their turn; beyond it `run` refuses at once. */
  maxQueuedPerKey: number;
}

/** Thrown by HashGate.run when the key already has `maxQueuedPerKey` tasks waiting. */
export class GateFullError extends Error {
  constructor() {
    super('too many password checks waiting for this address');
  }
}

interface Waiting {
  key: string;
  start: () => void;
}

/**
 * Where the slow hashes (scrypt) run: at most ONE at a time per key (a client address) and at
 * most `maxRunning` overall, first come first served. scrypt runs on libuv's threadpool, which
 * file reads, DNS and zlib share; a brute force from one address thus takes one thread, never
 * all of them, and its guesses wait in a short queue instead of piling onto the pool.
 */
export class HashGate {
  readonly #opts: HashGateOptions;
  readonly #runningKeys = new Set<string>();
  readonly #queue: Waiting[] = [];
  readonly #queuedPerKey = new Map<string, number>();

  constructor(opts: HashGateOptions) {
    this.#opts = opts;
  }

  /** Runs `task` when its turn comes; throws GateFullError (nothing run) if the key's queue is full. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const queued = this.#queuedPerKey.get(key) ?? 0;
    if (queued >= this.#opts.maxQueuedPerKey) throw new GateFullError();
    this.#queuedPerKey.set(key, queued + 1);
    await new Promise<void>((start) => {
      this.#queue.push({ key, start });
      this.#pump();
    });
    try {
      return await task();
    } finally {
      this.#runningKeys.delete(key);
      this.#pump();
    }
  }

  /** Hashes running now (for tests and metrics). */
  get running(): number {
    return this.#runningKeys.size;
  }

  #pump(): void {
    for (let i = 0; i < this.#queue.length && this.running < this.#opts.maxRunning;) {
      const next = this.#queue[i]!;
      if (this.#runningKeys.has(next.key)) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      const left = (this.#queuedPerKey.get(next.key) ?? 1) - 1;
      if (left > 0) this.#queuedPerKey.set(next.key, left);
      else this.#queuedPerKey.delete(next.key);
      this.#runningKeys.add(next.key);
      next.start();
    }
  }
}
