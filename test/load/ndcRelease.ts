import type { PeerConnection, Track } from 'node-datachannel';

/**
 * node-datachannel holds each callback it was given in a global handle until it is replaced,
 * closed PeerConnection or not: a bot that goes swaps its callbacks for no-ops (before closing:
 * a closed PeerConnection refuses new ones), or everything they reach (the bot, its stats)
 * stays in memory (the 30-minute soak's heap grew by ~60 KB per bot).
 */
export function releaseCallbacks(pc: PeerConnection | undefined, tracks: readonly Track[]): void {
  const noop = () => {};
  const quietly = (fn: () => void) => {
    try {
      fn();
    } catch {
      /* already gone */
    }
  };
  quietly(() => pc?.onTrack(noop));
  for (const t of tracks) {
    quietly(() => t.onMessage(noop));
    quietly(() => t.onOpen(noop));
  }
}
