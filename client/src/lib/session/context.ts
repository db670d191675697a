import { getContext, setContext } from 'svelte';
import type { RoomStores } from '../state/stores.ts';
import type { CaptionActions } from './captions.ts';
import type { ChatActions } from './chatActions.ts';
import type { ConsumerActions } from './consumerActions.ts';
import type { DeviceActions } from './devices.ts';
import type { E2eeActions } from './e2eeActions.ts';
import type { FileActions } from './fileActions.ts';
import type { ModerationActions } from './moderation.ts';
import type { RecordingActions } from './recordingActions.svelte.ts';
import type { RoomLifeActions } from './roomLife.ts';
import type { RoomOwnerActions } from './roomOwner.ts';
import type { StatsActions } from './stats.ts';

/**
 * What the room view's components see: the stores and the action modules — never the
 * signaling connection or the MediaClient.
 */
export interface RoomContext extends RoomStores {
  readonly devices: DeviceActions;
  readonly chatActions: ChatActions;
  readonly files: FileActions;
  readonly owner: RoomOwnerActions;
  readonly stats: StatsActions;
  readonly consumers: ConsumerActions;
  /** Games, reactions, raised hands. */
  readonly lifeActions: RoomLifeActions;
  /** Roles, mutes, removal, lock, waiting room, end of the meeting. */
  readonly moderationActions: ModerationActions;
  /** The owner's captions switch. */
  readonly captionActions: CaptionActions;
  readonly e2eeActions: E2eeActions;
  /** Recording state, the owner's start/stop, finished recordings. */
  readonly recording: RecordingActions;
  leave(): Promise<void>;
}

const KEY = Symbol('tutti.room');

/** Called once by the room view for its component tree. */
export function provideRoom(room: RoomContext): void {
  setContext(KEY, room);
}

export function useRoom(): RoomContext {
  const room = getContext<RoomContext | undefined>(KEY);
  if (!room) throw new Error('useRoom() outside the room view');
  return room;
}
