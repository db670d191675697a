import { errorText } from '@tutti/protocol';
import { E2ee, e2eeSupported } from '../e2ee/E2ee.ts';
import type { Signaling } from '../signaling.ts';
import type { E2eeStore } from '../state/e2ee.svelte.ts';

/**
 * An E2EE room's actions (components never see the E2ee object): the passphrase prompt,
 * rotating the keys, and following the room's key epoch (join answer, `e2ee.epoch`).
 */
export class E2eeActions {
  readonly #signaling: Signaling;
  readonly #e2ee: E2ee | null;
  readonly #store: E2eeStore;

  constructor(signaling: Signaling, e2ee: E2ee | null, store: E2eeStore, epoch: number) {
    this.#signaling = signaling;
    this.#e2ee = e2ee;
    this.#store = store;
    this.#epoch(epoch, true);
  }

  /** Gives (or changes) the room's passphrase to the transform worker; media flows from then on. */
  setPassphrase(passphrase: string): void {
    if (!this.#e2ee || !passphrase) return;
    this.#e2ee.setPassphrase(passphrase);
    this.#store.passphraseGiven();
  }

  /** Moves the room to a new key epoch now (everyone's senders switch keys). */
  async rotate(): Promise<void> {
    try {
      // The server tells every member (us too) `e2ee.epoch`; the answer is only a receipt.
      await this.#signaling.request('e2ee.rotate', {});
      this.#store.error = null;
    } catch (err) {
      this.#store.error = errorText(err);
    }
  }

  /** A join again (reconnect): that server's epoch, whatever ours was. */
  joined(epoch: number | undefined): void {
    this.#epoch(epoch ?? 0, true);
  }

  /** The room's epoch notifications. Returns the unsubscribers. */
  bind(): (() => void)[] {
    return [this.#signaling.on('e2ee.epoch', ({ epoch }) => this.#epoch(epoch, false))];
  }

  #epoch(epoch: number, reset: boolean): void {
    if (!this.#e2ee || (!reset && epoch <= this.#store.epoch)) return;
    this.#e2ee.setEpoch(epoch, reset);
    this.#store.epoch = epoch;
  }
}

/**
 * The crypto of an E2EE room (null for others), reporting decrypt states to the store.
 * Throws in a browser without WebRTC Encoded Transform: it could only send in the clear.
 */
export function startE2ee(
  room: { id: string; e2ee: boolean },
  selfId: string,
  store: E2eeStore,
): E2ee | null {
  if (!room.e2ee) return null;
  if (!e2eeSupported()) {
    throw new Error('This browser cannot take part in end-to-end encrypted rooms.');
  }
  return new E2ee(room.id, selfId, (consumerId, senderId, report) =>
    store.set(consumerId, senderId, report),
  );
}
