import {
  DEFAULT_MODERATION_SETTINGS,
  type ModerationSettings,
  type ModerationSnapshot,
  type WaitingPerson,
} from '@tutti/protocol';

/**
 * Moderation as this member sees it: the room's settings, who waits (owners and moderators
 * only) and the notice a moderator's mute left us. Our role is `members.self.role`.
 */
export class ModerationStore {
  settings = $state.raw<ModerationSettings>({ ...DEFAULT_MODERATION_SETTINGS });
  waiting = $state.raw<WaitingPerson[]>([]);
  /** "Muted by Ann" (and whether we may unmute), until dismissed or allowed. */
  mutedBy = $state.raw<{ by: string; canUnmute: boolean } | null>(null);

  reset(snapshot: ModerationSnapshot | undefined): void {
    this.settings = snapshot?.settings ?? { ...DEFAULT_MODERATION_SETTINGS };
    this.waiting = snapshot?.waiting ?? [];
  }
}
