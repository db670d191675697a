import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnMain, type MainProcess } from '../../server/test/helpers/mainProcess.ts';
import { createTestSchema } from '../../server/test/helpers/pgSchema.ts';
import { startS3rver } from '../../server/test/helpers/storageS3rver.ts';
import { dropRedisKeys, TEST_REDIS_URL } from './redisKeys.ts';

export interface ClusterNodeProcess {
  nodeId: string;
  host: string;
  /** http://host:port and ws://host:port/ws */
  url: string;
  wsUrl: string;
  /** The node's UDP/TCP media port range (TUTTI_MEDIA_RTC_MIN_PORT..MAX_PORT). */
  rtcPorts: [number, number];
  proc: MainProcess;
  /** Signals the node's process group (its worker too). */
  signal(sig: NodeJS.Signals): void;
  /** Resolves with the exit code once it has exited. */
  exited: Promise<number | null>;
}

export interface ClusterProcesses {
  nodes: ClusterNodeProcess[];
  /** The cluster's Redis key prefix and database (for tests that look inside). */
  redisPrefix: string;
  databaseUrl: string;
  /** Kills what is still running, drops the database schema, the Redis keys and temp dirs. */
  stop(): Promise<void>;
}

export interface ClusterProcessOptions {
  /** One node per host (loopback addresses such as 127.0.0.2); each binds and announces it. */
  hosts: string[];
  /** Extra environment for every node (e.g. TUTTI_SERVER_DRAIN_GRACE_SECONDS). */
  env?: Record<string, string>;
  /** Node ids: default `<prefix>-<n>`. */
  nodeIdPrefix?: string;
  /** How long a node may take to become ready. */
  readyTimeoutMs?: number;
  /** PostgreSQL settings for the nodes' sessions, e.g. `synchronous_commit=off` (benches). */
  databaseSettings?: string[];
  /**
   * Services the test runs itself (to stop and restart them): a Redis URL, a PostgreSQL
   * database URL (used as it is: no schema is made or dropped), an S3 endpoint.
   */
  services?: { redisUrl?: string; databaseUrl?: string; s3Endpoint?: string };
}

/**
 * `server/src/main.ts` once per host, configured by environment alone as a deployment would
 * be (the variable names issue 9 fixes), sharing a real Redis (under a key prefix of its
 * own), a PostgreSQL schema created here, an S3 server (the local files driver is refused in
 * a cluster) and one files secret. One media worker per node. Resolves once every node
 * answers /api/ready.
 */
export async function startClusterProcesses(
  opts: ClusterProcessOptions,
): Promise<ClusterProcesses> {
  const tag = randomBytes(4).toString('hex');
  const redisPrefix = `tutti:presence-proc-${tag}:`;
  const own = opts.services ?? {};
  const redisUrl = own.redisUrl ?? TEST_REDIS_URL;
  const schema = own.databaseUrl === undefined ? await createTestSchema() : undefined;
  const databaseUrl = withSettings(own.databaseUrl ?? schema!.url, opts.databaseSettings ?? []);
  const s3 = own.s3Endpoint === undefined ? await startS3rver() : undefined;
  const s3Endpoint = own.s3Endpoint ?? s3!.endpoint;
  const dir = mkdtempSync(path.join(tmpdir(), 'tutti-cluster-'));
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, '{}');
  const nodes: ClusterNodeProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const n of nodes) if (n.proc.child.exitCode === null) n.signal('SIGKILL');
    await Promise.all(nodes.map((n) => Promise.race([n.exited, sleep(5000)])));
    await s3?.stop().catch(() => {});
    await schema?.drop().catch(() => {});
    await dropRedisKeys(redisPrefix, redisUrl);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const rtcBase = 20_000 + randomInt(0, 200) * 100;
    for (const [i, host] of opts.hosts.entries()) {
      const port = await freePort(host);
      const rtcPorts: [number, number] = [rtcBase + i * 30, rtcBase + i * 30 + 29];
      const nodeId = `${opts.nodeIdPrefix ?? `node-${tag}`}-${i + 1}`;
      const dataDir = path.join(dir, nodeId);
      const env: Record<string, string> = {
        TUTTI_SERVER_HOST: host,
        PORT: String(port),
        TUTTI_MEDIA_LISTEN_IP: host,
        TUTTI_MEDIA_ANNOUNCED_ADDRESS: host,
        TUTTI_MEDIA_RTC_MIN_PORT: String(rtcPorts[0]),
        TUTTI_MEDIA_RTC_MAX_PORT: String(rtcPorts[1]),
        TUTTI_REDIS_URL: redisUrl,
        TUTTI_DATABASE_URL: databaseUrl,
        TUTTI_FILES_SECRET: `cluster-test-secret-${tag}`,
        TUTTI_CLUSTER_NODE_ID: nodeId,
        TUTTI_CLUSTER_REDIS_PREFIX: redisPrefix,
        TUTTI_MEDIA_NUM_WORKERS: '1',
        TUTTI_DATA_DIR: dataDir,
        TUTTI_SERVER_LOG_LEVEL: 'info',
        TUTTI_FILES_DRIVER: 's3',
        TUTTI_FILES_S3_ENDPOINT: s3Endpoint,
        TUTTI_FILES_S3_BUCKET: `cluster-${tag}`,
        TUTTI_FILES_S3_ACCESS_KEY_ID: 'S3RVER',
        TUTTI_FILES_S3_SECRET_ACCESS_KEY: 'S3RVER',
        TUTTI_FILES_S3_CREATE_BUCKET: 'true',
        ...opts.env,
      };
      const proc = spawnMain(configFile, { detached: true, env });
      nodes.push({
        nodeId,
        host,
        url: `http://${host}:${port}`,
        wsUrl: `ws://${host}:${port}/ws`,
        rtcPorts,
        proc,
        exited: proc.exited,
        signal: (sig) => {
          try {
            process.kill(-proc.child.pid!, sig);
          } catch {
            // Already gone.
          }
        },
      });
    }
    await Promise.all(nodes.map((n) => waitReady(n, opts.readyTimeoutMs ?? 30_000)));
  } catch (err) {
    for (const n of nodes) {
      const tail = n.proc.logs.slice(-5).map((l) => l.msg);
      console.error(`node ${n.nodeId}: ${n.proc.stderr.join('').slice(-2000)} ${tail.join(' | ')}`);
    }
    await stop();
    throw err;
  }
  return { nodes, redisPrefix, databaseUrl, stop };
}

/** The URL with `-c name=value` added to its `options` (after the schema's search_path). */
function withSettings(url: string, settings: string[]): string {
  if (settings.length === 0) return url;
  const u = new URL(url);
  const options = [u.searchParams.get('options') ?? '', ...settings.map((s) => `-c ${s}`)];
  u.searchParams.set('options', options.join(' ').trim());
  return u.toString();
}

async function waitReady(node: ClusterNodeProcess, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (node.proc.child.exitCode !== null) throw new Error(`${node.nodeId} exited at start-up`);
    try {
      const res = await fetch(`${node.url}/api/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > end) throw new Error(`${node.nodeId} not ready within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** A free TCP port on `host` (bound and released; the node binds it right after). */
async function freePort(host: string): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, host, resolve);
  });
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
