import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** One line of the server's JSON log (pino). */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface MainProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  exited: Promise<number | null>;
  /** Every stdout line so far, parsed (a line that is not JSON is kept as a level-60 entry). */
  logs: LogLine[];
  stderr: string[];
  /** Called with each log line as it arrives. */
  onLine: ((line: LogLine) => void) | undefined;
}

/**
 * `npm start` (server/src/main.ts) in a child process with TUTTI_CONFIG = `configFile`, its
 * log collected, `env` added to its environment. `detached`: its own process group, so a test
 * can signal it and its worker.
 */
export function spawnMain(
  configFile: string,
  opts: { detached?: boolean; env?: NodeJS.ProcessEnv } = {},
): MainProcess {
  const env: NodeJS.ProcessEnv = { ...opts.env, PATH: process.env.PATH, TUTTI_CONFIG: configFile };
  if (process.env.MEDIASOUP_WORKER_BIN) env.MEDIASOUP_WORKER_BIN = process.env.MEDIASOUP_WORKER_BIN;
  const child = spawn(process.execPath, [MAIN], {
    env,
    detached: opts.detached ?? false,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const main: MainProcess = {
    child,
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    logs: [],
    stderr: [],
    onLine: undefined,
  };
  child.stderr.setEncoding('utf8').on('data', (d: string) => main.stderr.push(d));
  createInterface({ input: child.stdout }).on('line', (text) => {
    try {
      const line = JSON.parse(text) as LogLine;
      main.logs.push(line);
      main.onLine?.(line);
    } catch {
      main.logs.push({ level: 60, msg: `not JSON: ${text}` });
    }
  });
  return main;
}
