import { E2ee, e2eeSupported } from '../e2ee/E2ee.ts';
import type { E2eeStore } from '../state/e2ee.svelte.ts';

/** The passphrase prompt's action (components never see the E2ee object). */
export class E2eeActions {
  readonly #e2ee: E2ee | null;
  readonly #store: E2eeStore;

  constructor(e2ee: E2ee | null, store: E2eeStore) {
    this.#e2ee = e2ee;
    this.#store = store;
  }

  /** Gives the room's passphrase to the transform worker; media flows from then on. */
  setPassphrase(passphrase: string): void {
    if (!this.#e2ee || !passphrase) return;
    this.#e2ee.setPassphrase(passphrase);
    this.#store.hasPassphrase = true;
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
  return new E2ee(room.id, selfId, (consumerId, senderId, state) =>
    store.set(consumerId, senderId, state),
  );
}
