import type { RoomSummary } from '@tutti/protocol';
import { errorText } from '@tutti/protocol';
import type { MembersStore } from '../state/members.svelte.ts';
import type { NoticesStore } from '../state/notices.svelte.ts';
import type { Signaling } from '../signaling.ts';
import { storage } from '../storage.ts';
import { deleteRoom, isOwnerOf } from './ownerActions.ts';

/** Owner changes to a room (`room.update`): `null` removes the password / the capacity. */
export interface RoomPatch {
  name?: string;
  password?: string | null;
  capacity?: number | null;
}

/** The owner actions of the room view (settings panel, delete button). */
export class RoomOwnerActions {
  /** Known at join (the secret is in localStorage); only owners get the buttons. */
  readonly isOwner: boolean;

  constructor(
    private readonly signaling: Signaling,
    private readonly members: MembersStore,
    private readonly notices: NoticesStore,
    private readonly hooks: {
      /** Our own rejoin after a reconnect must use the new password. */
      passwordChanged(password: string | undefined): void;
      deleted(): void;
    },
  ) {
    this.isOwner = isOwnerOf(members.room.id);
  }

  /**
   * Renames the room, sets/removes its password, changes its capacity. Rejects with a
   * readable message (the settings panel shows it).
   */
  async update(patch: RoomPatch): Promise<void> {
    const roomId = this.members.room.id;
    const ownerSecret = storage.ownerSecret(roomId);
    if (!ownerSecret) throw new Error('Only the owner can change the room.');
    let room: RoomSummary;
    try {
      ({ room } = await this.signaling.request('room.update', { roomId, ownerSecret, ...patch }));
    } catch (err) {
      throw new Error(errorText(err), { cause: err });
    }
    if (room.id === this.members.room.id) this.members.room = room;
    if (patch.password !== undefined) this.hooks.passwordChanged(patch.password ?? undefined);
  }

  async delete(): Promise<void> {
    try {
      if (await deleteRoom(this.signaling, this.members.room.id)) this.hooks.deleted();
    } catch (err) {
      this.notices.showError(`Could not delete the room: ${errorText(err)}`);
    }
  }
}
