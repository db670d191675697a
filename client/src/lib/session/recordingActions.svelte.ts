import { errorText } from '@tutti/protocol';
import type { Signaling } from '../signaling.ts';
import type { MembersStore } from '../state/members.svelte.ts';
import { RecordingStore } from '../state/recording.svelte.ts';
import { storage } from '../storage.ts';

/** Start/stop recording (the owner's buttons) and the recording state everybody sees. */
export class RecordingActions {
  readonly store = new RecordingStore();
  busy = $state(false);
  error = $state<string | null>(null);

  constructor(
    private readonly signaling: Signaling,
    private readonly members: MembersStore,
  ) {}

  /** Feeds recording.state / recording.item into the store; returns the unsubscribers. */
  bind(): (() => void)[] {
    return [
      this.signaling.on('recording.state', ({ state }) => (this.store.state = state)),
      this.signaling.on('recording.item', ({ item }) => this.store.add(item)),
    ];
  }

  start(): Promise<void> {
    return this.#request('recording.start');
  }

  stop(): Promise<void> {
    return this.#request('recording.stop');
  }

  async #request(method: 'recording.start' | 'recording.stop'): Promise<void> {
    // Owners and moderators may; a guest creator also proves it with the owner secret.
    const ownerSecret = storage.ownerSecret(this.members.room.id);
    this.busy = true;
    this.error = null;
    try {
      this.store.state = (
        await this.signaling.request(method, ownerSecret ? { ownerSecret } : {})
      ).state;
    } catch (err) {
      this.error = errorText(err);
    } finally {
      this.busy = false;
    }
  }
}
