/** What the lost answer of a resume said about the media (ResumeResult['media']). */
export type ResumeMedia = 'kept' | 'rebuild';

/** A spent token that may still resume its membership (its answer may not have arrived). */
export interface UnconfirmedResume {
  memberId: string;
  /** Good until then (ms since the epoch); a drop before it stretches it over the grace. */
  until: number;
  /** What that resume's answer said: a retry must say the same (the client never heard it). */
  media: ResumeMedia;
}

/**
 * The last token each member spent on a resume, until the client confirms the answer
 * (docs/reconnect.md, "a lost answer"). A socket that resumed and dropped before the answer
 * reached the client leaves the client with that spent token only: it resumes the same
 * membership again instead of a fresh join. One per member, kept as a hash like live tokens.
 */
export class UnconfirmedResumes {
  /** Token hash → what it resumed. */
  readonly #byHash = new Map<string, UnconfirmedResume>();
  /** Member id → its unconfirmed token's hash. */
  readonly #hashOf = new Map<string, string>();

  /** `hash` was just spent resuming `memberId`; it replaces the member's earlier one. */
  spent(hash: string, resume: UnconfirmedResume): void {
    this.forget(resume.memberId);
    this.#byHash.set(hash, resume);
    this.#hashOf.set(resume.memberId, hash);
  }

  find(hash: string): UnconfirmedResume | undefined {
    return this.#byHash.get(hash);
  }

  /**
   * The member's socket dropped and it waits out its grace (`graceMs` from `now`): an
   * unconfirmed token still good is good for the whole grace; one past its time is dead.
   */
  detached(memberId: string, now: number, graceMs: number): void {
    const hash = this.#hashOf.get(memberId);
    const resume = hash === undefined ? undefined : this.#byHash.get(hash);
    if (!resume) return;
    if (now >= resume.until) this.forget(memberId);
    else resume.until = Math.max(resume.until, now + graceMs);
  }

  /** The member confirmed its answer (or its membership ended): the spent token is dead. */
  forget(memberId: string): void {
    const hash = this.#hashOf.get(memberId);
    if (hash === undefined) return;
    this.#hashOf.delete(memberId);
    this.#byHash.delete(hash);
  }
}
