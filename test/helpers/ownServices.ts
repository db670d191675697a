import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Real server processes a fault test may stop and start again without touching anyone
 * else's: a redis-server, a PostgreSQL cluster (initdb into a temp dir) and an S3 server
 * (s3rver in a child process), each on a fixed loopback port. `stop()` ends the process
 * (Redis and S3 by SIGKILL, PostgreSQL by a fast shutdown, as `pg_ctl restart -m fast`);
 * `start()` brings a new one up on the same port (Redis empty, PostgreSQL and S3 with their
 * data); `dispose()` stops it and removes its files.
 */
export interface OwnService {
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

const PG_BIN = process.env.TUTTI_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const S3_MAIN = fileURLToPath(new URL('./s3rverProcess.ts', import.meta.url));

/** A redis-server on 127.0.0.1:`port` that keeps nothing on disk: restarted, it is empty. */
export function ownRedis(port: number): OwnService {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  return processService(`redis://127.0.0.1:${port}`, port, 'SIGKILL', () =>
    spawn('redis-server', args, { stdio: 'ignore' }),
  );
}

/**
 * A PostgreSQL cluster of its own on 127.0.0.1:`port` (trust auth, fsync off), run as the
 * `postgres` user when the test runs as root. Its database is `database`.
 */
export async function ownPostgres(port: number, database: string): Promise<OwnService> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tutti-pg-'));
  const user = process.getuid?.() === 0 ? postgresUser() : undefined;
  if (user) chownSync(dir, user.uid, user.gid);
  const asUser = user ?? {};
  const data = path.join(dir, 'data');
  const init = spawnSync(
    `${PG_BIN}/initdb`,
    ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'],
    { ...asUser, stdio: 'pipe', timeout: 60_000 },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${String(init.stderr)}`);
  }
  const server = processService(
    `postgres://postgres@127.0.0.1:${port}/${database}`,
    port,
    'SIGINT',
    () =>
      spawn(
        `${PG_BIN}/postgres`,
        [
          '-D',
          data,
          '-p',
          String(port),
          '-k',
          dir,
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'fsync=off',
        ],
        { ...asUser, stdio: 'ignore' },
      ),
  );
  await server.start();
  const create = spawnSync(
    `${PG_BIN}/psql`,
    ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-c', `CREATE DATABASE ${database}`],
    { stdio: 'pipe', timeout: 20_000 },
  );
  if (create.status !== 0) {
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`CREATE DATABASE failed: ${String(create.stderr)}`);
  }
  return {
    url: server.url,
    start: () => server.start(),
    stop: () => server.stop(),
    async dispose() {
      await server.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An S3-speaking server (s3rver) on 127.0.0.1:`port` in a child process, objects kept in a temp dir. */
export function ownS3(port: number): OwnService {
  const dir = mkdtempSync(path.join(tmpdir(), 'tutti-s3-'));
  const service = processService(`http://127.0.0.1:${port}`, port, 'SIGKILL', () =>
    spawn(process.execPath, [S3_MAIN, String(port), dir], { stdio: 'ignore' }),
  );
  return {
    url: service.url,
    start: () => service.start(),
    stop: () => service.stop(),
    async dispose() {
      await service.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres']).stdout.toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Children still running when the test process exits (a failed test, an interrupt) die with it. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** A server process that is up once its TCP port accepts connections. */
function processService(
  url: string,
  port: number,
  stopSignal: NodeJS.Signals,
  launch: () => ChildProcess,
): OwnService {
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill(stopSignal);
    const late = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(late);
  };
  return {
    url,
    async start() {
      if (child) throw new Error(`${url} is running already`);
      const c = launch();
      child = c;
      running.add(c);
      c.once('exit', () => running.delete(c));
      const end = Date.now() + 30_000;
      while (!(await accepts(port))) {
        if (c.exitCode !== null || Date.now() > end) {
          await stop();
          throw new Error(`${url} did not start`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop,
    dispose: stop,
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, timeout: 1000 });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}
