import { readFile } from 'node:fs/promises';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until some process on this host has bound UDP `port` (Linux: /proc/net/udp and
 * udp6), so RTP is sent only once ffmpeg listens. False after `timeoutMs` (or without /proc).
 */
export async function waitUdpBound(port: number, timeoutMs: number): Promise<boolean> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
      const text = await readFile(file, 'utf8').catch(() => '');
      // Lines: "  sl  local_address rem_address ...": the local address is the 2nd column.
      for (const line of text.split('\n')) {
        const local = line.trim().split(/\s+/)[1];
        if (local && `${local} `.endsWith(hex)) return true;
      }
    }
    await sleep(25);
  }
  return false;
}
