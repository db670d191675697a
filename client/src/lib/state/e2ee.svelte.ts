import { SvelteMap } from 'svelte/reactivity';
import type { DecryptReport } from '../e2ee/E2ee.ts';

/**
 * An E2EE room's state in this tab (docs/e2ee.md): whether the room is encrypted, whether
 * we gave a passphrase (and whether the prompt is open again to change it), the room's key
 * epoch, and each receiver's decrypt state (keyed by consumer id, with the member it comes
 * from and the epoch of the frames that open, so a tile can say "encrypted" or "cannot
 * decrypt").
 */
export class E2eeStore {
  readonly enabled: boolean;
  hasPassphrase = $state(false);
  /** The prompt is shown: no passphrase yet, or the member asked to enter another one. */
  prompting = $state(true);
  /** The key epoch our senders use now. */
  epoch = $state(0);
  /** Why the last rotation was refused, or null. */
  error: string | null = $state(null);
  readonly #receivers = new SvelteMap<string, { peerId: string } & DecryptReport>();

  constructor(enabled: boolean) {
    this.enabled = enabled;
    this.prompting = enabled;
  }

  passphraseGiven(): void {
    this.hasPassphrase = true;
    this.prompting = false;
  }

  /** A receiver of `peerId`'s media reported. */
  set(consumerId: string, peerId: string, report: DecryptReport): void {
    this.#receivers.set(consumerId, { peerId, ...report });
  }

  remove(consumerId: string): void {
    this.#receivers.delete(consumerId);
  }

  /** True when some of `peerId`'s media cannot be decrypted (a different passphrase). */
  failing(peerId: string): boolean {
    for (const r of this.#receivers.values())
      if (r.peerId === peerId && r.state === 'failing') return true;
    return false;
  }

  /** True when some of `peerId`'s media is still sealed for us: no passphrase given yet. */
  locked(peerId: string): boolean {
    if (!this.hasPassphrase) return true;
    for (const r of this.#receivers.values())
      if (r.peerId === peerId && r.state === 'nokey') return true;
    return false;
  }

  /** Whether some receiver of ours decrypts `peerId`'s frames right now. */
  decrypting(peerId: string): boolean {
    for (const r of this.#receivers.values())
      if (r.peerId === peerId && r.state === 'ok') return true;
    return false;
  }

  /** The newest key epoch `peerId`'s frames open with here, or null. */
  epochOf(peerId: string): number | null {
    let epoch: number | null = null;
    for (const r of this.#receivers.values())
      if (r.peerId === peerId && r.epoch !== null) epoch = Math.max(epoch ?? 0, r.epoch);
    return epoch;
  }
}
