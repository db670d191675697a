import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';

/** How a child process ended: its exit code or signal, and the tail of what it said. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last lines of stderr (ffmpeg explains itself there). */
  stderr: string;
  /** True when we killed it for running past its time limit. */
  timedOut: boolean;
}

export interface ChildOptions {
  /** Killed (SIGKILL) past this; every child has one. */
  timeoutMs: number;
  /** Lower priority (nice): the composite must not starve the media workers. */
  nice?: number;
}

const STDERR_TAIL = 4096;

/**
 * One ffmpeg (or ffprobe) process with a kill path: a time limit, a graceful stop (SIGINT:
 * ffmpeg finishes the file's trailer) escalating to SIGKILL, and its exit as a promise.
 */
export class Child {
  readonly process: ChildProcess;
  readonly exited: Promise<Exit>;
  #stderr = '';
  #timedOut = false;
  #done = false;

  constructor(bin: string, args: readonly string[], opts: ChildOptions) {
    this.process = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (opts.nice !== undefined && this.process.pid !== undefined) {
      try {
        setPriority(this.process.pid, opts.nice);
      } catch {
        /* not allowed here: run at normal priority */
      }
    }
    this.process.stderr?.setEncoding('utf8');
    this.process.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-STDERR_TAIL);
    });
    const timer = setTimeout(() => {
      this.#timedOut = true;
      this.kill();
    }, opts.timeoutMs);
    timer.unref();
    this.exited = new Promise((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.#done) return;
        this.#done = true;
        clearTimeout(timer);
        resolve({ code, signal, stderr: this.#stderr.trim(), timedOut: this.#timedOut });
      };
      this.process.once('error', (err) => {
        this.#stderr += `\n${err.message}`;
        finish(null, null);
      });
      this.process.once('close', finish);
    });
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get running(): boolean {
    return !this.#done;
  }

  /**
   * SIGINT; a second one shortly after (ffmpeg blocked reading an input that sends nothing
   * only notices the second, and still writes its trailer); SIGKILL past `graceMs`.
   */
  async stop(graceMs = 5000): Promise<Exit> {
    if (this.#done) return this.exited;
    this.process.kill('SIGINT');
    const again = setTimeout(() => this.#done || this.process.kill('SIGINT'), 400);
    const timer = setTimeout(() => this.kill(), graceMs);
    again.unref();
    timer.unref();
    const exit = await this.exited;
    clearTimeout(again);
    clearTimeout(timer);
    return exit;
  }

  kill(): void {
    if (!this.#done) this.process.kill('SIGKILL');
  }
}

/** Runs to the end (or its time limit); rejects with ffmpeg's words when it fails. */
export async function run(bin: string, args: readonly string[], opts: ChildOptions): Promise<void> {
  const exit = await new Child(bin, args, opts).exited;
  if (exit.code === 0) return;
  const why = exit.timedOut ? `timed out after ${opts.timeoutMs} ms` : lastLine(exit.stderr);
  throw new Error(`${bin} failed: ${why || `exit ${exit.code ?? exit.signal}`}`);
}

export function lastLine(text: string): string {
  return text.split('\n').filter(Boolean).at(-1) ?? '';
}
