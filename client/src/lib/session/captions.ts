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

  set(enabled: boolean): Promise<boolean> {
    return this.#try(async (secret) => {
      const { captions } = await this.signaling.request('captions.set', { enabled, ...secret });
      this.captions.reset(captions);
    });
  }

  /** Posts the transcript so far into the chat (it arrives as our chat message). */
  save(): Promise<boolean> {
    return this.#try(async (secret) => {
      const { lines } = await this.signaling.request('captions.save', secret);
      if (lines === 0) this.captions.error = 'Nothing has been said yet.';
    });
  }

  async #try(run: (secret: { ownerSecret?: string }) => Promise<void>): Promise<boolean> {
    this.captions.error = null;
    const ownerSecret = storage.ownerSecret(this.roomId());
    try {
      await run(ownerSecret ? { ownerSecret } : {});
      return true;
    } catch (err) {
      this.captions.error = errorText(err);
      return false;
    }
  }
}
