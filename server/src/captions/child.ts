import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';

export type PipedChild = ChildProcessByStdio<Writable, Readable, Readable>;

/** The last bytes a child wrote to stderr, for the report when it dies. */
const STDERR_TAIL = 2048;

/**
 * A child process with all three pipes, whose stderr tail is kept and whose stdin errors
 * (EPIPE once it died) are swallowed: the exit handler reports what happened.
 */
export function spawnPiped(
  command: string,
  args: readonly string[],
  onExit: (code: number | null, signal: NodeJS.Signals | null, stderr: string) => void,
): PipedChild {
  // Its own process group, so killChild() takes any helper it runs (see realStdin) with it.
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let tail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-STDERR_TAIL);
  });
  child.stdin.on('error', () => {});
  child.on('error', () => {}); // ENOENT: 'exit' does not follow, 'close' does (below).
  child.once('close', (code, signal) => onExit(code, signal, tail.trim()));
  return child;
}

/** Kills a child (SIGKILL: it holds nothing worth flushing) and waits until it is reaped. */
export async function killChild(child: PipedChild, timeoutMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const gone = once(child, 'close').catch(() => {});
  try {
    process.kill(-child.pid, 'SIGKILL'); // the group: the child and its helpers
  } catch {
    child.kill('SIGKILL');
  }
  await Promise.race([gone, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
}

/** Whether `command` can be run: an existing path, or found on PATH. */
export function findExecutable(
  command: string,
  exists: (path: string) => boolean,
): string | undefined {
  if (command.includes('/')) return exists(command) ? command : undefined;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && exists(`${dir}/${command}`)) return `${dir}/${command}`;
  }
  return undefined;
}

/**
 * `command args` behind `cat |`: Node hands a child a socket as stdin, and a program that
 * opens /dev/stdin by name (pocketsphinx's -infile) cannot open a socket; cat gives it a pipe.
 * When the command ends, its status goes to stderr and the group is killed (cat would wait on
 * its stdin for ever): the child then ends by SIGKILL, and the status is in its stderr tail.
 */
export function realStdin(command: string, args: readonly string[]): [string, string[]] {
  const script = 'cat | { "$0" "$@"; echo "exit status $?" >&2; kill -KILL 0; }';
  return ['sh', ['-c', script, command, ...args]];
}
