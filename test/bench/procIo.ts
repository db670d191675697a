import { readFileSync } from 'node:fs';

/**
 * Write syscalls (write, writev, send…) the processes made so far, from /proc/PID/io
 * (`syscw`): the chat bench's server writes per delivery (issue 12: the fan-out's largest
 * cost was one write per recipient per message). NaN where /proc is not readable.
 */
export function writeSyscalls(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /^syscw:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
      total += m ? Number(m[1]) : NaN;
    } catch {
      return NaN;
    }
  }
  return total;
}
