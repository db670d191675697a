import type { Signaling } from '../signaling.ts';
import type { MembersStore } from '../state/members.svelte.ts';

/**
 * After a dropped socket: takes the membership the server kept for us over on the new
 * socket (`session.resume`, docs/reconnect.md). Same id, nobody saw us leave; the member
 * list is brought up to the server's, since notifications sent into the dead socket may be
 * lost. Resolves with the next resume token and whether the media must be rebuilt (the
 * socket landed on another node of the cluster, which took the membership over: our
 * transports stayed on the old one). Rejects (RESUME_FAILED…) when the membership is gone,
 * and the caller joins again.
 */
export async function resumeMembership(
  signaling: Signaling,
  members: MembersStore,
  token: string,
): Promise<{ token: string; rebuildMedia: boolean }> {
  const resumed = await signaling.request('session.resume', { token }, 10_000);
  members.sync(resumed.room, resumed.self, resumed.peers);
  return { token: resumed.resumeToken, rebuildMedia: resumed.media === 'rebuild' };
}
