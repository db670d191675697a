import { TuttiError } from '@tutti/protocol';

/** A task waiting its turn in a room's queue. */
type Job<A, R> =
  | { kind: 'append'; item: A; queuedAt: number; settle: Settle<R> }
  | { kind: 'task'; run: () => Promise<unknown>; queuedAt: number; settle: Settle<unknown> };

interface Settle<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/**
 * Runs one batch of appends: one answer per item, in item order (a rejected entry fails that
 * item only). Rejecting fails every item of the batch.
 */
export type BatchRunner<A, R> = (items: A[]) => Promise<PromiseSettledResult<R>[]>;

/**
 * Per room, one thing at a time against the store, in arrival order, with group commit: the
 * appends that queue up while a batch is in flight go together as the next batch (up to
 * `maxBatch`), so a room's throughput is no longer one round trip per message. Other tasks
 * (join-history reads) run alone, after what was queued before them and before what comes
 * after. An idle room's first append starts at once (in a microtask: appends queued in
 * the same tick share the batch).
 *
 * A job whose turn comes after `queueWaitMs` is refused with STORE_UNAVAILABLE without
 * touching the store: with the store hung, every queued job answers within about one
 * statement timeout, not one per batch ahead of it.
 */
export class RoomQueues<A, R> {
  readonly #run: BatchRunner<A, R>;
  readonly #maxBatch: number;
  readonly #queueWaitMs: number;
  /** Rooms with work queued or in flight → their waiting jobs. */
  readonly #rooms = new Map<string, { jobs: Job<A, R>[]; busy: boolean }>();

  constructor(opts: { run: BatchRunner<A, R>; maxBatch: number; queueWaitMs: number }) {
    this.#run = opts.run;
    this.#maxBatch = Math.max(1, opts.maxBatch);
    this.#queueWaitMs = opts.queueWaitMs;
  }

  /** Queues one append; settles with its own answer from the batch it went in. */
  append(roomId: string, item: A): Promise<R> {
    return new Promise<R>((resolve, reject) =>
      this.#enqueue(roomId, {
        kind: 'append',
        item,
        queuedAt: Date.now(),
        settle: { resolve, reject },
      }),
    );
  }

  /** Runs `run` alone in the room's order (after everything queued before it). */
  task<T>(roomId: string, run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.#enqueue(roomId, {
        kind: 'task',
        run,
        queuedAt: Date.now(),
        settle: { resolve: resolve as (v: unknown) => void, reject },
      }),
    );
  }

  #enqueue(roomId: string, job: Job<A, R>): void {
    let room = this.#rooms.get(roomId);
    if (!room) {
      room = { jobs: [], busy: false };
      this.#rooms.set(roomId, room);
      queueMicrotask(() => void this.#pump(roomId));
    }
    room.jobs.push(job);
  }

  async #pump(roomId: string): Promise<void> {
    const room = this.#rooms.get(roomId);
    if (!room || room.busy) return;
    room.busy = true;
    try {
      while (room.jobs.length > 0) {
        const next = this.#takeTurn(room.jobs);
        if (next.length === 0) continue;
        const first = next[0]!;
        if (first.kind === 'task') {
          await Promise.resolve().then(first.run).then(first.settle.resolve, first.settle.reject);
          continue;
        }
        const appends = next as Extract<Job<A, R>, { kind: 'append' }>[];
        let results: PromiseSettledResult<R>[];
        try {
          results = await this.#run(appends.map((j) => j.item));
        } catch (err) {
          results = appends.map(() => ({ status: 'rejected', reason: err }));
        }
        for (const [i, job] of appends.entries()) {
          const result = results[i] ?? {
            status: 'rejected',
            reason: new Error('the store gave no answer for this message'),
          };
          if (result.status === 'fulfilled') job.settle.resolve(result.value);
          else job.settle.reject(result.reason);
        }
      }
    } finally {
      room.busy = false;
      this.#rooms.delete(roomId);
    }
  }

  /**
   * The next turn: one task, or the run of appends at the head of the queue (up to
   * maxBatch). Jobs that waited too long are refused here and left out.
   */
  #takeTurn(jobs: Job<A, R>[]): Job<A, R>[] {
    const now = Date.now();
    const turn: Job<A, R>[] = [];
    while (jobs.length > 0 && turn.length < this.#maxBatch) {
      const job = jobs[0]!;
      if (job.kind === 'task' && turn.length > 0) break;
      jobs.shift();
      if (now - job.queuedAt > this.#queueWaitMs) {
        job.settle.reject(
          new TuttiError('STORE_UNAVAILABLE', 'the database is not answering; try again shortly'),
        );
        continue;
      }
      turn.push(job);
      if (job.kind === 'task') break;
    }
    return turn;
  }
}
