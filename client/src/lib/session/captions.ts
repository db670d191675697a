import { errorText } from '@tutti/protocol';
import type { CaptionsStore } from '../state/captions.svelte.ts';
import type { Signaling } from '../signaling.ts';
import { storage } from '../storage.ts';

/** Caption notifications → the store. Returns the unsubscribers. */
export function bindCaptions(s: Signaling, captions: CaptionsStore): (() => void)[] {
  return [
    s.on('captions.state', ({ captions: state }) => captions.reset(state)),
    s.on('captions.line', (line) => captions.line(line)),
  ];
}

/** The owner's captions switch (the server checks the owner secret from localStorage). */
export class CaptionActions {
  constructor(
    private readonly signaling: Signaling,
    private readonly captions: CaptionsStore,
    private readonly roomId: () => string,
  ) {}

  async set(enabled: boolean): Promise<boolean> {
    this.captions.error = null;
    const ownerSecret = storage.ownerSecret(this.roomId()) ?? undefined;
    try {
      const { captions } = await this.signaling.request('captions.set', {
        enabled,
        ...(ownerSecret ? { ownerSecret } : {}),
      });
      this.captions.reset(captions);
      return true;
    } catch (err) {
      this.captions.error = errorText(err);
      return false;
    }
  }
}
