/**
 * Real network faults for tests: a network namespace joined to the root namespace by a veth
 * pair, on 198.18.0.0/15 addresses only (the range set aside for network tests). The link can
 * be taken down and up, and the root-side veth's egress (traffic toward the namespace, i.e. the
 * downlink of whatever runs inside) can be capped with tbf. Needs root; netem is not used.
 *
 * Everything is named `tutti-<pid>-<n>` (veths `tv<pid>n<n>r|p`): destroy() removes it, a
 * process-exit guard removes what a crashed test left, and create() first sweeps leftovers of
 * test processes that are gone. Several runs on one machine can keep apart:
 * TUTTI_TEST_NETNS_PREFIX (e.g. `h14`: namespaces `h14-<pid>-<n>`, veths `h14<pid>n<n>r|p`)
 * and TUTTI_TEST_NETNS_OCTET (the third octet of 198.18.x.0, else from the pid).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ShapeOptions {
  rateKbit: number;
  /** Bucket size in bytes (default 16 KiB). */
  burst?: number;
  /** Longest a packet may wait in the tbf queue before it is dropped (default 100 ms). */
  latencyMs?: number;
}

export interface NetNamespace {
  name: string;
  /** Address of the root side of the veth (what a server in the root namespace listens on). */
  hostIp: string;
  /** Address of the namespace side. */
  nsIp: string;
  /** The root-side veth (the one shape() caps). */
  hostIf: string;
  /** A script that runs Chromium inside the namespace ("$@" passed through). */
  chromiumWrapper: string;
  setLink(state: 'up' | 'down'): void;
  shape(opts: ShapeOptions): void;
  unshape(): void;
  destroy(): void;
}

const PREFIX = process.env.TUTTI_TEST_NETNS_PREFIX ?? 'tutti';
const VETH = PREFIX === 'tutti' ? 'tv' : PREFIX;
const OCTET = process.env.TUTTI_TEST_NETNS_OCTET;
const live = new Set<NetNamespace>();
let counter = 0;
let guarded = false;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quiet(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // already gone
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes namespaces and veths of earlier test processes that no longer run. */
function sweepLeftovers(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const m = /^(\S+)-(\d+)-(\d+)/.exec(line);
    if (!m || m[1] !== PREFIX || Number(m[2]) === process.pid || pidAlive(Number(m[2]))) continue;
    quiet(() => ip('link', 'del', `${VETH}${m[2]}n${m[3]}r`));
    quiet(() => ip('netns', 'del', `${PREFIX}-${m[2]}-${m[3]}`));
  }
}

function guardExit(): void {
  if (guarded) return;
  guarded = true;
  // 'exit' handlers must be synchronous: execFileSync is.
  process.on('exit', () => {
    for (const ns of [...live]) ns.destroy();
  });
}

/** Whether this process can make namespaces (root with iproute2 and tc). */
export function netnsAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    ip('netns', 'list');
    execFileSync('tc', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function createNetNamespace(): NetNamespace {
  guardExit();
  sweepLeftovers();
  const n = counter++;
  const name = `${PREFIX}-${process.pid}-${n}`;
  const hostIf = `${VETH}${process.pid}n${n}r`;
  const nsIf = `${VETH}${process.pid}n${n}p`;
  // A /30 per namespace: third octet from the pid, fourth from the counter (198.18.0.0/16 half).
  const a = OCTET === undefined ? process.pid % 256 : Number(OCTET);
  const b = (n % 64) * 4;
  const hostIp = `198.18.${a}.${b + 1}`;
  const nsIp = `198.18.${a}.${b + 2}`;
  const wrapperDir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  const chromiumWrapper = path.join(wrapperDir, 'chromium');
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  let destroyed = false;

  const ns: NetNamespace = {
    name,
    hostIp,
    nsIp,
    hostIf,
    chromiumWrapper,
    setLink(state) {
      // Both ends, so neither side keeps sending into a dead link.
      ip('link', 'set', hostIf, state);
      ip('-n', name, 'link', 'set', nsIf, state);
    },
    shape({ rateKbit, burst = 16 * 1024, latencyMs = 100 }) {
      execFileSync('tc', [
        'qdisc',
        'replace',
        'dev',
        hostIf,
        'root',
        'tbf',
        'rate',
        `${rateKbit}kbit`,
        'burst',
        String(burst),
        'latency',
        `${latencyMs}ms`,
      ]);
    },
    unshape() {
      quiet(() => execFileSync('tc', ['qdisc', 'del', 'dev', hostIf, 'root'], { stdio: 'ignore' }));
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(ns);
      ns.unshape();
      // Deleting one end of a veth deletes the pair.
      quiet(() => ip('link', 'del', hostIf));
      quiet(() => ip('netns', 'del', name));
      rmSync(wrapperDir, { recursive: true, force: true });
    },
  };
  live.add(ns);
  try {
    ip('netns', 'add', name);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', name);
    ip('addr', 'add', `${hostIp}/30`, 'dev', hostIf);
    ip('-n', name, 'addr', 'add', `${nsIp}/30`, 'dev', nsIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', name, 'link', 'set', nsIf, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
    writeFileSync(chromiumWrapper, `#!/bin/sh\nexec ip netns exec ${name} ${chromium} "$@"\n`);
    chmodSync(chromiumWrapper, 0o755);
  } catch (err) {
    ns.destroy();
    throw err;
  }
  return ns;
}
