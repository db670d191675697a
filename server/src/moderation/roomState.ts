import { DEFAULT_MODERATION_SETTINGS, type ModerationSettings } from '@tutti/protocol';
import { WaitingRoom } from './waitingRoom.ts';

/**
 * What moderation keeps about one room on this node: the settings as this node last had them
 * from the shared state (sharedState.ts holds the truth, with the bars, the remembered
 * moderators and the cluster's waiting list), whose mic a moderator holds muted (members of
 * this node), and the waiting room of this node's connections (their tickets).
 */
export class RoomModerationState {
  settings: ModerationSettings;
  readonly waiting: WaitingRoom;
  /** Members whose mic a moderator muted; with moderatorsUnmute on they cannot unmute. */
  readonly #heldMics = new Set<string>();

  constructor(stored: Omit<ModerationSettings, 'locked'>, now?: () => number) {
    this.settings = { ...DEFAULT_MODERATION_SETTINGS, ...stored, locked: false };
    this.waiting = new WaitingRoom(now ? { now } : {});
  }

  holdMic(memberId: string): void {
    this.#heldMics.add(memberId);
  }

  releaseMic(memberId: string): boolean {
    return this.#heldMics.delete(memberId);
  }

  /** True while this member may not unmute (muted by a moderator, "moderators unmute" on). */
  micHeld(memberId: string): boolean {
    return this.settings.moderatorsUnmute && this.#heldMics.has(memberId);
  }

  memberLeft(memberId: string): void {
    this.#heldMics.delete(memberId);
  }
}

export function sameSettings(a: ModerationSettings, b: ModerationSettings): boolean {
  return (
    a.locked === b.locked &&
    a.waitingRoom === b.waitingRoom &&
    a.moderatorsUnmute === b.moderatorsUnmute &&
    a.signedInOnly === b.signedInOnly
  );
}
