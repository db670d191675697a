import type { WaitingPerson } from '@tutti/protocol';

/**
 * One room's waiting room: who waits (by connection id, in arrival order), who was
 * admitted (a ticket the next room.join of that connection uses up) and who was denied
 * (that connection is refused from then on). Pure bookkeeping; Moderation tells people.
 */
export class WaitingRoom {
  readonly #waiting = new Map<string, WaitingPerson>();
  readonly #admitted = new Set<string>();
  readonly #denied = new Set<string>();
  readonly #now: () => number;
  /** Most people waiting at once (a flood of knocks must not grow without bound). */
  readonly #max: number;

  constructor(opts: { now?: () => number; max?: number } = {}) {
    this.#now = opts.now ?? Date.now;
    this.#max = opts.max ?? 200;
  }

  list(): WaitingPerson[] {
    return [...this.#waiting.values()].map((p) => ({ ...p }));
  }

  get size(): number {
    return this.#waiting.size;
  }

  isAdmitted(id: string): boolean {
    return this.#admitted.has(id);
  }

  isDenied(id: string): boolean {
    return this.#denied.has(id);
  }

  /** Puts someone in the queue (again: keeps their place, takes the new nickname). */
  knock(id: string, nickname: string): 'added' | 'updated' | 'full' {
    const known = this.#waiting.get(id);
    if (known) {
      known.nickname = nickname;
      return 'updated';
    }
    if (this.#waiting.size >= this.#max) return 'full';
    this.#waiting.set(id, { id, nickname, since: this.#now() });
    return 'added';
  }

  /** A moderator lets them in: false if they were not waiting. */
  admit(id: string): boolean {
    if (!this.#waiting.delete(id)) return false;
    this.#admitted.add(id);
    return true;
  }

  deny(id: string): boolean {
    if (!this.#waiting.delete(id)) return false;
    this.#denied.add(id);
    return true;
  }

  /** Their join went through: the ticket is used up. */
  joined(id: string): void {
    this.#admitted.delete(id);
  }

  /** The connection left or closed: forget it entirely. True if it was in the queue. */
  forget(id: string): boolean {
    this.#admitted.delete(id);
    this.#denied.delete(id);
    return this.#waiting.delete(id);
  }

  /** The meeting ended: everyone waiting is sent away (returned), tickets are void. */
  clear(): WaitingPerson[] {
    const was = this.list();
    this.#waiting.clear();
    this.#admitted.clear();
    return was;
  }
}
