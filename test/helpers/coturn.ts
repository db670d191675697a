/**
 * Debian's coturn (`turnserver`, installed by .ci/setup.sh) as a child process on 127.0.0.1,
 * with TURN REST authentication (`use-auth-secret`) and a temp log, for the TURN tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const TURNSERVER = process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver';

export interface Coturn {
  port: number;
  /** turn:127.0.0.1:<port>?transport=udp */
  url: string;
  secret: string;
  /** What coturn logged so far. */
  log(): string;
  stop(): Promise<void>;
}

export function coturnInstalled(): boolean {
  return existsSync(TURNSERVER);
}

/** A port free for both TCP and UDP on 127.0.0.1 (coturn listens on both). */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const sock = createSocket('udp4');
      sock.once('error', () => resolve(false));
      sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
    });
    if (port && udpFree) return port;
  }
  throw new Error('no free port for coturn');
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

export async function startCoturn(secret: string): Promise<Coturn> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tutti-coturn-'));
  const logFile = path.join(dir, 'turn.log');
  const port = await freePort();
  const args = [
    '-n', // no config file: only these options
    '--listening-ip=127.0.0.1',
    `--listening-port=${port}`,
    '--relay-ip=127.0.0.1',
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    '--realm=tutti.test',
    '--no-tls',
    '--no-dtls',
    // mediasoup listens on 127.0.0.1 here: a relay towards loopback is refused otherwise.
    '--allow-loopback-peers',
    '--no-cli',
    '--no-multicast-peers',
    '--verbose', // sessions and allocations in the log (the test reads them)
    `--log-file=${logFile}`,
    '--simple-log', // exactly that file name (no date suffix)
    `--pidfile=${path.join(dir, 'turn.pid')}`,
    `--userdb=${path.join(dir, 'turndb')}`, // not /var/lib/turn
  ];
  const child: ChildProcess = spawn(TURNSERVER, args, { stdio: 'ignore' });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  const readLog = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exit.then(() => true), sleep(3000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exit;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 10_000;
  while (!(await tcpOpen(port))) {
    if (exited || Date.now() > deadline) {
      const log = readLog();
      await stop();
      throw new Error(`turnserver did not start on ${port}:\n${log.slice(-2000)}`);
    }
    await sleep(100);
  }
  return { port, url: `turn:127.0.0.1:${port}?transport=udp`, secret, log: readLog, stop };
}
