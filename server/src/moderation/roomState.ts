import { DEFAULT_MODERATION_SETTINGS, type ModerationSettings } from '@tutti/protocol';
import { WaitingRoom } from './waitingRoom.ts';

/**
 * What moderation remembers about one room on this node: its settings (all but the lock are
 * also kept in the room record), the bars, who was made a moderator (by account, so they
 * keep the role when they come back), whose mic a moderator holds muted, the waiting room.
 */
export class RoomModerationState {
  settings: ModerationSettings;
  readonly waiting: WaitingRoom;
  /** Barred accounts, and barred addresses (guests). */
  readonly #barredAccounts = new Set<string>();
  readonly #barredAddresses = new Set<string>();
  readonly #moderatorAccounts = new Set<string>();
  /** Members whose mic a moderator muted; with moderatorsUnmute on they cannot unmute. */
  readonly #heldMics = new Set<string>();

  constructor(stored: Omit<ModerationSettings, 'locked'>, now?: () => number) {
    this.settings = { ...DEFAULT_MODERATION_SETTINGS, ...stored, locked: false };
    this.waiting = new WaitingRoom(now ? { now } : {});
  }

  bar(who: { accountId: string | null; address: string }): void {
    if (who.accountId) this.#barredAccounts.add(who.accountId);
    else this.#barredAddresses.add(who.address);
  }

  isBarred(who: { accountId: string | null; address: string }): boolean {
    if (who.accountId) return this.#barredAccounts.has(who.accountId);
    return this.#barredAddresses.has(who.address);
  }

  rememberModerator(accountId: string | null, on: boolean): void {
    if (!accountId) return;
    if (on) this.#moderatorAccounts.add(accountId);
    else this.#moderatorAccounts.delete(accountId);
  }

  isRememberedModerator(accountId: string | null): boolean {
    return accountId !== null && this.#moderatorAccounts.has(accountId);
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
