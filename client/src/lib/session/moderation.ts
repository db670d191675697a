import { errorText, type ModerationSettings } from '@tutti/protocol';
import type { MediaClient } from '../media/MediaClient.ts';
import type { Signaling } from '../signaling.ts';
import type { RoomStores } from '../state/stores.ts';

/** What the participant menu, the room controls and the waiting list do (`moderation.*`). */
export class ModerationActions {
  constructor(
    private readonly signaling: Signaling,
    private readonly stores: RoomStores,
  ) {}

  /** Are we the owner or a moderator (the server decides; this only picks the buttons)? */
  get canModerate(): boolean {
    return this.stores.members.self.role !== 'participant';
  }

  makeModerator(peerId: string): Promise<void> {
    return this.#run(() =>
      this.signaling.request('moderation.setRole', { peerId, role: 'moderator' }),
    );
  }

  mute(peerId: string): Promise<void> {
    return this.#run(() => this.signaling.request('moderation.mute', { peerId }));
  }

  allowUnmute(peerId: string): Promise<void> {
    return this.#run(() => this.signaling.request('moderation.allowUnmute', { peerId }));
  }

  stopVideo(peerId: string, source: 'camera' | 'screen'): Promise<void> {
    return this.#run(() => this.signaling.request('moderation.stopVideo', { peerId, source }));
  }

  remove(peerId: string, ban = false): Promise<void> {
    return this.#run(() => this.signaling.request('moderation.remove', { peerId, ban }));
  }

  settings(patch: Partial<ModerationSettings>): Promise<void> {
    return this.#run(async () => {
      const { settings } = await this.signaling.request('moderation.settings', patch);
      this.stores.moderation.settings = settings;
    });
  }

  end(): Promise<void> {
    return this.#run(() => this.signaling.request('moderation.end', {}));
  }

  admit(waitingId: string): Promise<void> {
    return this.#run(() => this.signaling.request('moderation.admit', { waitingId }));
  }

  deny(waitingId: string): Promise<void> {
    return this.#run(() => this.signaling.request('moderation.deny', { waitingId }));
  }

  /** A refusal (FORBIDDEN…) shows as the error toast. */
  async #run(task: () => Promise<unknown>): Promise<void> {
    try {
      await task();
    } catch (err) {
      this.stores.notices.showError(`Not done: ${errorText(err)}`);
    }
  }
}

/**
 * Moderation notifications → stores and our own media: a moderator's mute pauses our mic
 * here too, a stopped camera or screen share stops its capture. Removal and the end of the
 * meeting are RoomSession's (`ended`). Returns the unsubscribers.
 */
export function bindModeration(
  s: Signaling,
  media: MediaClient,
  { moderation, notices }: RoomStores,
  ended: (reason: 'removed' | 'ended', message: string) => void,
): (() => void)[] {
  return [
    s.on('moderation.settings', ({ settings }) => (moderation.settings = settings)),
    s.on('moderation.waiting', ({ waiting }) => (moderation.waiting = waiting)),
    s.on('moderation.muted', (data) => {
      moderation.mutedBy = data;
      // The server paused the producer already; pause ours so the controls show it.
      media.setPaused('mic', true).catch(() => undefined);
    }),
    s.on('moderation.unmuteAllowed', ({ by }) => {
      if (moderation.mutedBy) moderation.mutedBy = { ...moderation.mutedBy, canUnmute: true };
      notices.add(`${by} lets you unmute`);
    }),
    s.on('moderation.videoStopped', ({ by, source }) => {
      notices.add(`${by} stopped your ${source === 'camera' ? 'camera' : 'screen share'}`);
      const sources =
        source === 'camera' ? (['camera'] as const) : (['screen', 'screen-audio'] as const);
      for (const src of sources) void media.stopSource(src);
    }),
    s.on('moderation.removed', ({ by, banned }) =>
      ended(
        'removed',
        `${by} removed you from the room${banned ? ' (you cannot come back)' : ''}.`,
      ),
    ),
    s.on('moderation.ended', ({ by }) => ended('ended', `${by} ended the meeting for everyone.`)),
  ];
}
