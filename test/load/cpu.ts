import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

/** CPU time of processes from /proc/<pid>/stat, and a description of this machine. */

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* Linux default */
}

/** Total user + system CPU time of a process (all its threads), in ms; undefined if gone. */
export function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes the command name; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clkTck;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in bytes. */
export function procRssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Child processes of `ppid` whose command name starts with `name` (e.g. mediasoup-worker). */
export function childPids(ppid: number, name?: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === ppid && (!name || comm.startsWith(name.slice(0, 15)))) out.push(Number(entry));
    } catch {
      /* raced with exit */
    }
  }
  return out;
}

/** Samples several processes; `sample()` returns cores used per pid since the last call. */
export class CpuMeter {
  private last = new Map<number, { cpu: number; at: number }>();
  readonly pids: number[];
  constructor(pids: number[]) {
    this.pids = pids;
    this.sample();
  }
  /** Fraction of one core each process used since the previous sample. */
  sample(): number[] {
    const now = performance.now();
    return this.pids.map((pid) => {
      const cpu = procCpuMs(pid) ?? 0;
      const prev = this.last.get(pid);
      this.last.set(pid, { cpu, at: now });
      return prev && now > prev.at ? (cpu - prev.cpu) / (now - prev.at) : 0;
    });
  }
}

export function machineInfo(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  return `${model}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

/** Machine-wide UDP receive-buffer drops (/proc/net/snmp): packets the kernel discarded. */
export function udpRcvbufErrors(): number {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    return Number(values[names.indexOf('RcvbufErrors')]);
  } catch {
    return 0;
  }
}

/** Busy CPU time of the whole machine (all cores, /proc/stat), in ms. */
export function machineBusyMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait.
    const busy = v.reduce((a, b) => a + b, 0) - (v[3] ?? 0) - (v[4] ?? 0);
    return (busy * 1000) / clkTck;
  } catch {
    return 0;
  }
}
