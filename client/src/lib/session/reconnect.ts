import { errorCodeOf } from '@tutti/protocol';
import type { Signaling } from '../signaling.ts';
import type { MembersStore } from '../state/members.svelte.ts';

/**
 * How long one `session.resume` waits for its answer on a socket that stays open. Long: the
 * server spends the token as it reads the request, so asking again elsewhere can only be
 * refused; a slow node (a handover from a busy one) answers late but answers. A dead socket
 * is found sooner by the signaling's ping (8 s), and then the next socket asks again.
 */
export const RESUME_ANSWER_MS = 30_000;
/**
 * How long after a drop a resume that got no verdict is tried again on the next socket; past
 * it the tab joins afresh. Longer than the server's grace (server.resumeGraceSeconds, 15 s):
 * the grace starts when the server notices the drop, which for a half-open socket (a link
 * down) is its own ping's time-out, well after the client's. The first resume on a new
 * socket is always tried: the server's answer is the verdict.
 */
export const RESUME_WINDOW_MS = 45_000;

/** The server's verdicts: the membership is not there to take (or this socket is in one). */
const VERDICTS = new Set(['RESUME_FAILED', 'ALREADY_JOINED', 'INVALID_REQUEST']);

/**
 * What to do on a new socket: `resumed` (the member list is the server's again; rebuild the
 * media if it says so), `join` afresh, or `wait` for the next socket, which tries again.
 */
export type ResumeStep =
  { kind: 'resumed'; rebuildMedia: boolean } | { kind: 'join' } | { kind: 'wait' };

export type ResumeSignaling = Pick<Signaling, 'request' | 'reconnect' | 'state'>;
export type ResumeMembers = Pick<MembersStore, 'sync'>;

/**
 * After a dropped socket: takes the membership the server kept for us over on the new
 * socket (`session.resume`, docs/reconnect.md). Same id, nobody saw us leave; the member
 * list is brought up to the server's, since notifications sent into the dead socket may be
 * lost. A refusal (RESUME_FAILED…) means the membership is gone: join afresh. No answer (a
 * socket that died under the request, one that never answers) is no verdict: the token may
 * still be good (the request may never have reached the server, or its answer was lost: the
 * server lets a spent token resume the same membership again until we confirm the answer),
 * but not on this socket (a late answer would seat us on it while we joined), so a fresh
 * socket tries again, for as long as the server may keep the membership.
 */
export class MembershipResume {
  readonly #signaling: ResumeSignaling;
  readonly #members: ResumeMembers;
  readonly #windowMs: number;
  readonly #answerMs: number;
  /** Single use: each join or resume answer brings the next. */
  #token: string | undefined;
  #droppedAt: number | undefined;
  /** Bumped at every new socket: an attempt whose socket was replaced leaves it to the next. */
  #opens = 0;

  constructor(
    signaling: ResumeSignaling,
    members: ResumeMembers,
    opts: { windowMs?: number; answerMs?: number } = {},
  ) {
    this.#signaling = signaling;
    this.#members = members;
    this.#windowMs = opts.windowMs ?? RESUME_WINDOW_MS;
    this.#answerMs = opts.answerMs ?? RESUME_ANSWER_MS;
  }

  /** A join answer's token (none: the server keeps no grace). */
  issued(token: string | undefined): void {
    this.#token = token;
    this.#droppedAt = undefined;
  }

  /** The socket dropped: the server keeps the membership for its grace from about now. */
  dropped(): void {
    this.#droppedAt ??= Date.now();
  }

  /** A new socket is open: resume on it, or say what to do instead. */
  async onOpen(): Promise<ResumeStep> {
    const open = ++this.#opens;
    const token = this.#token;
    if (token === undefined) return this.#join();
    let resumed;
    try {
      resumed = await this.#signaling.request('session.resume', { token }, this.#answerMs);
    } catch (err) {
      if (open !== this.#opens) return { kind: 'wait' }; // The newer socket tries itself.
      if (VERDICTS.has(errorCodeOf(err) ?? '') || !this.#inWindow()) return this.#join();
      // Still the socket we asked on (else it went and the next one is coming by itself).
      if (this.#signaling.state === 'open') this.#signaling.reconnect();
      return { kind: 'wait' };
    }
    this.issued(resumed.resumeToken);
    // The token just spent resumes us again until the server hears we have the answer: say
    // so, so that a replay of it cannot take us over (a lost confirm only leaves it longer).
    this.#signaling.request('session.confirm', {}).catch(() => undefined);
    this.#members.sync(resumed.room, resumed.self, resumed.peers);
    return { kind: 'resumed', rebuildMedia: resumed.media === 'rebuild' };
  }

  #inWindow(): boolean {
    return this.#droppedAt === undefined || Date.now() - this.#droppedAt < this.#windowMs;
  }

  #join(): ResumeStep {
    this.#token = undefined;
    this.#droppedAt = undefined;
    return { kind: 'join' };
  }
}
