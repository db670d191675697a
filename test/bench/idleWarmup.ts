import { procRssBytes } from '../load/cpu.ts';
import { ensureRoom } from '../load/signaling.ts';
import { PeerFleet } from './chatFleet.ts';
import type { TuttiServer } from './tutti-server.ts';

/**
 * The warm-up wave of bench:chat and bench:peer-heap (issue 12). What the first N idle peers
 * add to the server's RSS is not what an idle peer costs: it also holds what the server
 * pays once while its join path gets optimized — the JIT's code (1.5–2 MB) and the
 * high-water of the malloc arenas V8's background compile jobs ran in (glibc keeps freed
 * pages in the middle of an arena resident), 5–17 MB from run to run. So N warm-up peers
 * join a room of their own first and *stay joined* while the measured peers join: the
 * measured figure is the marginal cost of an extra idle peer on a warm server, and none of
 * the measured peers can live in memory a warm-up peer gave back. The first wave's own
 * growth (the cold figure, one-time costs included) is printed too.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Reading {
  rss: number;
  heap: number;
}

/** A full GC in the server, then its JS heap use and RSS. */
export async function readServer(server: TuttiServer): Promise<Reading> {
  const heap = await server.gcHeapUsed();
  return { heap, rss: procRssBytes(server.pid) ?? 0 };
}

export interface Warmup {
  /** The warm-up peers (still joined); close it when the bench is done. */
  fleet: PeerFleet | undefined;
  /** The first wave's growth per peer, KB (one-time costs included); NaN without a wave. */
  coldRssKb: number;
  coldHeapKb: number;
  /** What to print about it ('' without a wave). */
  line: string;
}

/**
 * `peers` warm-up peers join `bench-chat-warmup` (in `procs` processes, as the measured
 * peers); 0: none (the measured figure is then the cold one, as before the warm-up).
 */
export async function warmUpWave(
  server: TuttiServer,
  peers: number,
  procs: number,
  tag: string,
): Promise<Warmup> {
  if (peers <= 0) return { fleet: undefined, coldRssKb: NaN, coldHeapKb: NaN, line: '' };
  const before = await readServer(server);
  const fleet = new PeerFleet({ peers, urls: [server.wsUrl], procs });
  const roomId = await ensureRoom(server.wsUrl, 'bench-chat-warmup');
  await fleet.connect(roomId);
  await sleep(3000);
  const after = await readServer(server);
  const coldRssKb = (after.rss - before.rss) / peers / 1024;
  const coldHeapKb = (after.heap - before.heap) / peers / 1024;
  const line =
    `${tag} warm-up: ${peers} peers joined a room of their own and stay joined; their own growth ` +
    `(cold, with the one-time JIT code and compile-job malloc arenas): ${coldRssKb.toFixed(1)} KB RSS, ` +
    `${coldHeapKb.toFixed(1)} KB JS heap per peer`;
  return { fleet, coldRssKb, coldHeapKb, line };
}

/** How the measured figure is to be read (printed next to it). */
export function marginalNote(warmupPeers: number): string {
  return warmupPeers > 0
    ? `marginal: on top of the ${warmupPeers} warm-up peers, still joined`
    : 'cold: no warm-up wave (--warmup-peers 0), one-time JIT and arena costs included';
}
