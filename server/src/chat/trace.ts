import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Opt-in per-message timing of the chat path (`chat.traceDir`, TUTTI_CHAT_TRACE_DIR; for
 * `bench:chat -- --trace`): what each message went through, on the machine's clock
 * (`performance.timeOrigin + now()`, the same in every process of the box), as NDJSON in
 * `<dir>/chat-trace-<pid>.ndjson`. Records hold ids, keys and times, never text. Off (the
 * default) nothing is created and the chat path only tests for its absence.
 */
export type TraceRecord =
  /** The origin node's answer to chat.send: received, queued (after the screen), answered. */
  | { k: 'send'; id: string; key?: string; recv: number; queued: number; answered: number }
  /** The batch that stored it: its start, the store's answer, its size. */
  | { k: 'batch'; id: string; start: number; stored: number; size: number }
  /** The bus took its publish. */
  | { k: 'pub'; id: string; t: number }
  /** A node's delivery: off the bus, and its socket writes done (the tick's uncork). */
  | { k: 'bus'; id: string; t: number; written: number; local: number };

export const traceClock = (): number => performance.timeOrigin + performance.now();

export class ChatTrace {
  readonly #file: string;
  #lines: string[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.#file = path.join(dir, `chat-trace-${process.pid}.ndjson`);
    // Written a few times a second (a bench stops its nodes with SIGKILL).
    this.#timer = setInterval(() => this.flush(), 200);
    this.#timer.unref();
  }

  add(record: TraceRecord): void {
    this.#lines.push(JSON.stringify(record));
  }

  /** The origin node answers a chat.send (a message it created). */
  answered(id: string, key: string | undefined, recv: number, queued: number): void {
    this.add({
      k: 'send',
      id,
      ...(key !== undefined && { key }),
      recv,
      queued,
      answered: traceClock(),
    });
  }

  /** A node delivered a message it took off the bus at `t` to `local` members. */
  delivery(id: string, t: number, local: number): void {
    // After this tick's uncorks: the sockets queued theirs while sending, before this one.
    process.nextTick(() => this.add({ k: 'bus', id, t, written: traceClock(), local }));
  }

  flush(): void {
    if (this.#lines.length === 0) return;
    const text = this.#lines.join('\n') + '\n';
    this.#lines = [];
    appendFileSync(this.#file, text);
  }

  close(): void {
    clearInterval(this.#timer);
    this.flush();
  }
}
