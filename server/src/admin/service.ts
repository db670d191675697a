import { TuttiError, type PeerInfo, type RoomSummary } from '@tutti/protocol';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';

/** What the admin API does to rooms, on this node's registry (no owner secret needed). */
export class AdminRooms {
  readonly #rooms: RoomRegistry;

  constructor(rooms: RoomRegistry) {
    this.#rooms = rooms;
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

  participants(roomId: string): PeerInfo[] {
    return this.#rooms.require(roomId).peers();
  }

  /**
   * Pauses the participant's microphone producer on the server (everyone sees mic 'off')
   * and tells them `media.producerPaused`; they may unmute. Returns the paused producer ids
   * (none when the mic is off or absent already).
   */
  async mute(roomId: string, peerId: string): Promise<string[]> {
    const member = this.#member(roomId, peerId);
    const paused: string[] = [];
    for (const p of [...member.media.producers()]) {
      if (p.appData.source !== 'mic' || p.closed || p.paused) continue;
      await member.media.pauseProducer(p.id);
      paused.push(p.id);
      void member.channel.notify('media.producerPaused', {
        producerId: p.id,
        source: 'mic',
        by: 'admin',
      });
    }
    return paused;
  }

  /** Out of the room (the others see room.peerLeft); told `room.removed`. The socket stays. */
  remove(roomId: string, peerId: string): void {
    const room = this.#rooms.require(roomId);
    const member = this.#member(roomId, peerId);
    void member.channel.notify('room.removed', { by: 'admin' });
    room.remove(peerId);
  }

  #member(roomId: string, peerId: string) {
    const member = this.#rooms.require(roomId).member(peerId);
    if (!member) throw new TuttiError('NOT_FOUND', 'no such participant in this room');
    return member;
  }
}
