import { fork, type ChildProcess } from 'node:child_process';
import type { ServerSnapshot } from './census.ts';

/**
 * The soak's server runs in a process of its own (test/soak/serverproc.ts), so that its RSS
 * is the server's alone: the bots' node-datachannel threads, their malloc arenas and
 * libdatachannel's native state stay in the soak driver's process. This is the driver's
 * handle on it and the messages between the two.
 */

export interface ServerInit {
  /** Where the server listens (HTTP, WebSocket) and its WebRTC transports bind. */
  host: string;
  workers: number;
}

export type ToServer =
  | { t: 'start'; init: ServerInit }
  | { t: 'snapshot'; id: number; collect: boolean }
  | { t: 'heapSnapshot'; id: number; file: string }
  | { t: 'stop'; id: number };

export type FromServer =
  | { t: 'ready'; url: string; wsUrl: string }
  | { t: 'failed'; error: string }
  | { t: 'snapshot'; id: number; snapshot: ServerSnapshot; workersClosed: number }
  | { t: 'heapSnapshot'; id: number; file: string }
  | { t: 'stopped'; id: number; crashes: string[] };

type Reply<K extends FromServer['t']> = Extract<FromServer, { t: K }>;

export class SoakServer {
  readonly url: string;
  readonly wsUrl: string;
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (msg: FromServer) => void>();
  readonly #exited: Promise<number | null>;
  #nextId = 1;

  private constructor(child: ChildProcess, url: string, wsUrl: string) {
    this.#child = child;
    this.url = url;
    this.wsUrl = wsUrl;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.on('message', (raw) => {
      const msg = raw as FromServer;
      if (!('id' in msg)) return;
      const w = this.#waiting.get(msg.id);
      this.#waiting.delete(msg.id);
      w?.(msg);
    });
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** Forks the server process (with --expose-gc; `env` is added to ours) and waits for it. */
  static async start(init: ServerInit, env: NodeJS.ProcessEnv = {}): Promise<SoakServer> {
    const child = fork(new URL('./serverproc.ts', import.meta.url), [], {
      execPath: process.execPath,
      execArgv: ['--expose-gc'],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    const ready = await new Promise<Reply<'ready'>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('soak server did not start')), 60_000);
      const done = (err?: Error): void => {
        clearTimeout(timer);
        if (err) {
          child.kill('SIGKILL');
          reject(err);
        }
      };
      child.once('message', (raw) => {
        const msg = raw as FromServer;
        if (msg.t === 'ready') {
          done();
          resolve(msg);
        } else done(new Error(`soak server: ${msg.t === 'failed' ? msg.error : msg.t}`));
      });
      child.once('exit', (code) => done(new Error(`soak server exited (${code})`)));
      child.send({ t: 'start', init } satisfies ToServer);
    });
    return new SoakServer(child, ready.url, ready.wsUrl);
  }

  /** Counts and memory (after a full GC in the server when `collect`). */
  snapshot(collect: boolean): Promise<Reply<'snapshot'>> {
    return this.#ask<'snapshot'>((id) => ({ t: 'snapshot', id, collect }));
  }

  /** Writes a V8 heap snapshot of the server's process; resolves with its path. */
  async heapSnapshot(file: string): Promise<string> {
    return (await this.#ask<'heapSnapshot'>((id) => ({ t: 'heapSnapshot', id, file }))).file;
  }

  /** Stops the server (its workers with it) and the process; resolves with what crashed. */
  async stop(): Promise<string[]> {
    if (!this.#child.connected) return [`soak server exited (${await this.#exited})`];
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 30_000);
    try {
      return (await this.#ask<'stopped'>((id) => ({ t: 'stop', id }))).crashes;
    } finally {
      await this.#exited;
      clearTimeout(timer);
    }
  }

  #ask<K extends FromServer['t']>(make: (id: number) => ToServer): Promise<Reply<K>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (!this.#child.connected) return reject(new Error('soak server is gone'));
      const onExit = (code: number | null): void => {
        this.#waiting.delete(id);
        reject(new Error(`soak server exited (${code})`));
      };
      this.#child.once('exit', onExit);
      this.#waiting.set(id, (msg) => {
        this.#child.off('exit', onExit);
        resolve(msg as Reply<K>);
      });
      this.#child.send(make(id));
    });
  }
}
