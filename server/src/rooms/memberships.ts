import { TuttiError } from '@tutti/protocol';
import type { Membership } from './ports.ts';
import type { Member, Room } from './Room.ts';

/** Which room each connection of this node has joined (connection id → room). */
export class Memberships {
  readonly #byChannel = new Map<string, Room>();

  /** A member was admitted to `room`. */
  joined(channelId: string, room: Room): void {
    this.#byChannel.set(channelId, room);
  }

  /** A member left `room` (a later membership elsewhere is kept). */
  left(channelId: string, room: Room): void {
    if (this.#byChannel.get(channelId) === room) this.#byChannel.delete(channelId);
  }

  roomOf(channelId: string): Room | undefined {
    return this.#byChannel.get(channelId);
  }

  /** Throws ALREADY_JOINED: one room per connection. */
  checkNotJoined(channelId: string): void {
    if (this.#byChannel.has(channelId)) {
      throw new TuttiError('ALREADY_JOINED', 'already in a room; leave it first');
    }
  }

  membership(channelId: string): Membership | undefined {
    const room = this.#byChannel.get(channelId);
    const info = room?.member(channelId)?.info;
    return room && info && { roomId: room.id, nickname: info.nickname, role: info.role };
  }

  /** The room and member behind a connection; throws NOT_JOINED. */
  requireMember(channelId: string): { room: Room; member: Member } {
    const room = this.#byChannel.get(channelId);
    const member = room?.member(channelId);
    if (!room || !member) throw new TuttiError('NOT_JOINED', 'join a room first');
    return { room, member };
  }
}
