import type { CaptionsStore } from './captions.svelte.ts';
import type { ChatStore } from './chat.svelte.ts';
import type { E2eeStore } from './e2ee.svelte.ts';
import type { LocalMediaStore } from './local.svelte.ts';
import type { MembersStore } from './members.svelte.ts';
import type { ModerationStore } from './moderation.svelte.ts';
import type { NoticesStore } from './notices.svelte.ts';
import type { RoomLifeStore } from './roomLife.svelte.ts';
import type { TracksStore } from './tracks.svelte.ts';

/** One room's stores (docs/client.md has their shapes). */
export interface RoomStores {
  readonly members: MembersStore;
  readonly tracks: TracksStore;
  readonly chat: ChatStore;
  readonly local: LocalMediaStore;
  readonly notices: NoticesStore;
  /** Games, raised hands, reactions. */
  readonly life: RoomLifeStore;
  /** Room settings, the waiting list, a moderator's mute (server/src/moderation). */
  readonly moderation: ModerationStore;
  /** Live captions: on or off, each speaker's latest line. */
  readonly captions: CaptionsStore;
  /** End-to-end encryption: passphrase given, per-receiver decrypt state. */
  readonly e2ee: E2eeStore;
}
