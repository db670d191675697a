import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A CPU cap for one process through the cgroup v1 `cpu` controller: a group of its own
 * under /sys/fs/cgroup/cpu with cfs_quota_us / cfs_period_us = the cap in cores. The
 * bench caps the SFU's worker so that it, not the bots, runs out of CPU first. On release
 * (and on exit, error or Ctrl-C) the process goes back to the root group and the group is
 * removed.
 */

const ROOT = '/sys/fs/cgroup/cpu';
/** A short period keeps throttling smooth: a 100 ms period lets a worker stall for 70 ms. */
const PERIOD_US = 10_000;

export interface CpuCap {
  readonly dir: string;
  readonly pid: number;
  readonly cores: number;
  /** Periods in which the group hit its quota, and the time it spent throttled (ms). */
  throttled(): { periods: number; throttledPeriods: number; throttledMs: number };
  release(): void;
}

/** Why capping cannot work here, or undefined when it can. */
export function cgroupUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'capping the worker needs root (cgroup v1 cpu controller)';
  if (!existsSync(path.join(ROOT, 'cpu.cfs_quota_us')) || !existsSync(path.join(ROOT, 'tasks')))
    return `no cgroup v1 cpu controller at ${ROOT}`;
  return undefined;
}

const live = new Set<CpuCap>();
let hooked = false;

function releaseAll(): void {
  for (const c of [...live]) c.release();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', releaseAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    // A bench with its own handler (watchInterrupt) winds down and releases in `finally`,
    // or exits, which releases above; without one, the signal must still end the process.
    process.on(sig, () => {
      if (process.listenerCount(sig) > 1) return;
      releaseAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    releaseAll();
    throw err;
  });
}

/** Moves `pid` into a new group capped at `cores` of a core (e.g. 0.3). */
export function capProcess(pid: number, cores: number, name: string): CpuCap {
  const why = cgroupUnavailable();
  if (why) throw new Error(why);
  if (!(cores > 0 && cores <= 64)) throw new Error(`cap must be in (0, 64] cores, got ${cores}`);
  if (pid === process.pid || pid === process.ppid || pid <= 1)
    throw new Error(`refusing to cap pid ${pid} (the bench itself, its parent or init)`);
  const dir = path.join(ROOT, `tutti-bench-${process.pid}-${name.replace(/[^\w-]/g, '_')}`);
  mkdirSync(dir);
  const write = (file: string, value: string | number): void =>
    writeFileSync(path.join(dir, file), String(value));
  try {
    write('cpu.cfs_period_us', PERIOD_US);
    write('cpu.cfs_quota_us', Math.max(1000, Math.round(cores * PERIOD_US)));
    // Every thread of the process: `tasks` takes thread ids, cgroup.procs the whole process.
    write('cgroup.procs', pid);
  } catch (err) {
    rmdirSync(dir);
    throw err;
  }
  let released = false;
  const cap: CpuCap = {
    dir,
    pid,
    cores,
    throttled() {
      if (released) return { periods: 0, throttledPeriods: 0, throttledMs: 0 };
      const stat = readFileSync(path.join(dir, 'cpu.stat'), 'utf8');
      const get = (k: string): number => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(stat)?.[1]);
      return {
        periods: get('nr_periods'),
        throttledPeriods: get('nr_throttled'),
        throttledMs: get('throttled_time') / 1e6,
      };
    },
    release() {
      if (released) return;
      released = true;
      live.delete(cap);
      // Move every thread still in the group back to the root group, then remove it.
      try {
        const tids = readFileSync(path.join(dir, 'tasks'), 'utf8').split('\n').filter(Boolean);
        for (const tid of tids) {
          try {
            writeFileSync(path.join(ROOT, 'tasks'), tid);
          } catch {
            /* thread exited meanwhile */
          }
        }
      } catch {
        /* group already gone */
      }
      try {
        rmdirSync(dir);
      } catch (err) {
        console.error(`[cgroup] could not remove ${dir}: ${String(err)}`);
      }
    },
  };
  live.add(cap);
  hookExit();
  return cap;
}

/** Moves one more process into an existing cap's group (they then share its quota). */
export function addToCap(cap: CpuCap, pid: number): void {
  if (pid === process.pid || pid === process.ppid || pid <= 1)
    throw new Error(`refusing to cap pid ${pid} (the bench itself, its parent or init)`);
  writeFileSync(path.join(cap.dir, 'cgroup.procs'), String(pid));
}
