import type { PeerInfo, RoomSummary } from '@tutti/protocol';
import type { ModerationActions } from '../moderation/actions.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';

/** What the admin API does to rooms, on this node's registry (no owner secret needed). */
export class AdminRooms {
  readonly #rooms: RoomRegistry;
  /** The moderator actions (the same notices for the person as a moderator's); wired later. */
  readonly #moderation: () => ModerationActions;

  constructor(rooms: RoomRegistry, moderation: () => ModerationActions) {
    this.#rooms = rooms;
    this.#moderation = moderation;
  }

  list(): RoomSummary[] {
    return this.#rooms.list();
  }

  /** `label` keys the room-creation rate limit (the API key, not an address). */
  create(
    args: { name: string; password?: string | undefined; capacity?: number | undefined },
    label: string,
  ): Promise<{ room: RoomSummary; ownerSecret: string }> {
    return this.#rooms.create(args, label);
  }

  /** Members are told `room.closed { reason: 'deleted' }` and disconnected. */
  close(roomId: string): Promise<void> {
    return this.#rooms.deleteByAdmin(roomId);
  }

  /** Everyone in the room, on every node (a room created elsewhere a moment ago is loaded). */
  async participants(roomId: string): Promise<PeerInfo[]> {
    return this.#rooms.peersOf(await this.#rooms.find(roomId));
  }

  /**
   * Pauses the participant's microphone on the server (everyone sees mic 'off'), as a
   * moderator's mute does: they are told `moderation.muted { by: 'admin' }`. Returns the
   * paused producer ids (none when the mic is off or absent already).
   */
  mute(roomId: string, peerId: string): Promise<string[]> {
    return this.#moderation().byAdmin(roomId, peerId, 'mute');
  }

  /** Out of the room as a moderator removes someone: told `moderation.removed`. The socket stays. */
  async remove(roomId: string, peerId: string): Promise<void> {
    await this.#moderation().byAdmin(roomId, peerId, 'remove');
  }
}
