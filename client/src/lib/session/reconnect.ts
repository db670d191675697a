import type { Signaling } from '../signaling.ts';
import type { MembersStore } from '../state/members.svelte.ts';

/**
 * After a dropped socket: takes the membership the server kept for us over on the new
 * socket (`session.resume`, docs/reconnect.md). Same id, same media transports, nobody saw
 * us leave; the member list is brought up to the server's, since notifications sent into the
 * dead socket may be lost. Resolves with the next resume token; rejects (RESUME_FAILED…)
 * when the membership is gone, and the caller joins again.
 */
export async function resumeMembership(
  signaling: Signaling,
  members: MembersStore,
  token: string,
): Promise<string> {
  const resumed = await signaling.request('session.resume', { token }, 10_000);
  members.sync(resumed.room, resumed.self, resumed.peers);
  return resumed.resumeToken;
}
