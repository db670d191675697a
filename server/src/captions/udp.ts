import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';

/**
 * A free UDP port `p` on `ip` with `p + 1` free too (ffmpeg's RTP input binds both, RTCP on
 * the second). Probed by binding and releasing: another process may take it in between, in
 * which case ffmpeg fails to bind and the stream restarts it on a new pair.
 */
export async function freePortPair(ip: string, attempts = 20): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const first = await bindable(ip, 0);
    if (first === undefined || first >= 65535) continue;
    if ((await bindable(ip, first + 1)) !== undefined) return first;
  }
  throw new Error(`no free UDP port pair on ${ip}`);
}

function bindable(ip: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, ip, () => {
      const bound = socket.address().port;
      socket.close(() => resolve(bound));
    });
  });
}

/**
 * Whether some process has bound UDP `ip:port` (Linux /proc/net/udp), without touching the
 * port: a probe bind could steal it from ffmpeg in the instant it binds.
 */
export async function udpBound(ip: string, port: number): Promise<boolean> {
  const table = await readFile('/proc/net/udp', 'utf8').catch(() => '');
  const want = `${hexIp(ip)}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return table.split('\n').some((line) => line.trim().split(/\s+/)[1] === want);
}

/** /proc/net/udp writes IPv4 addresses as the host-order (little-endian) 32-bit hex. */
function hexIp(ip: string): string {
  return ip
    .split('.')
    .reverse()
    .map((b) => Number(b).toString(16).toUpperCase().padStart(2, '0'))
    .join('');
}

/** Resolves true once `ip:port` is bound, false after `timeoutMs`. */
export async function waitBound(ip: string, port: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await udpBound(ip, port)) return true;
    await new Promise((r) => setTimeout(r, 30));
  }
  return false;
}
