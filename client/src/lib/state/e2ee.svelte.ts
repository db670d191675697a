import { SvelteMap } from 'svelte/reactivity';
import type { DecryptState } from '../e2ee/messages.ts';

/**
 * An E2EE room's state in this tab (docs/e2ee.md): whether the room is encrypted, whether
 * we gave a passphrase, and each receiver's decrypt state (keyed by consumer id, with the
 * member it comes from, so a tile can say "cannot decrypt").
 */
export class E2eeStore {
  readonly enabled: boolean;
  hasPassphrase = $state(false);
  readonly #receivers = new SvelteMap<string, { peerId: string; state: DecryptState }>();

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  /** A receiver of `peerId`'s media is now in `state`. */
  set(consumerId: string, peerId: string, state: DecryptState): void {
    this.#receivers.set(consumerId, { peerId, state });
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
}
