import {
  IDLE_RECORDING,
  type RecordingItem,
  type RecordingJoinExtras,
  type RecordingState,
} from '@tutti/protocol';

/** Whether the room is being recorded, and its finished recordings (newest first). */
export class RecordingStore {
  state = $state<RecordingState>({ ...IDLE_RECORDING });
  items = $state<RecordingItem[]>([]);

  /** From the join answer (a server without recording sends nothing). */
  reset(extras: Partial<RecordingJoinExtras>): void {
    this.state = extras.recording ?? { ...IDLE_RECORDING };
    this.items = [...(extras.recordings ?? [])].reverse();
  }

  add(item: RecordingItem): void {
    this.items = [item, ...this.items.filter((i) => i.id !== item.id)];
  }
}
