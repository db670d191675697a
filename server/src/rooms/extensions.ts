import type { Logger } from '../kernel/log.ts';
import type { PeerInfo } from '@tutti/protocol';
import type { JoinExtras, MemberChannel, RoomExtension } from './ports.ts';

/**
 * The concerns' contributions to rooms (registered once at start-up) and how they are
 * called: one failing contribution is logged and never stops the others.
 */
export class RoomExtensions {
  readonly #list: RoomExtension[] = [];
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  use(ext: RoomExtension): void {
    this.#list.push(ext);
  }

  /** Calls every contribution now (the caller's tick: the admission's), merges their answers. */
  async joinAnswer(roomId: string, channel: MemberChannel): Promise<JoinExtras> {
    const parts = this.#list.map((ext) => {
      try {
        return Promise.resolve(ext.joinAnswer?.(roomId, channel) ?? {});
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    const extras: JoinExtras = {};
    for (const result of await Promise.allSettled(parts)) {
      if (result.status === 'fulfilled') Object.assign(extras, result.value);
      else this.#log.warn({ err: result.reason, roomId }, 'joinAnswer contribution failed');
    }
    return extras;
  }

  async roomDeleted(roomId: string): Promise<void> {
    for (const ext of this.#list) {
      try {
        await ext.roomDeleted?.(roomId);
      } catch (err) {
        this.#log.error({ err, roomId }, 'roomDeleted contribution failed');
      }
    }
  }

  connectionClosed(channel: MemberChannel): void {
    for (const ext of this.#list) {
      try {
        ext.connectionClosed?.(channel);
      } catch (err) {
        this.#log.error({ err, peerId: channel.id }, 'connectionClosed contribution failed');
      }
    }
  }

  /** A member was admitted (`firstIn`: the room was empty). */
  memberJoined(roomId: string, member: PeerInfo, firstIn: boolean): void {
    for (const ext of this.#list) {
      try {
        ext.memberJoined?.(roomId, member, firstIn);
      } catch (err) {
        this.#log.error({ err, roomId, peerId: member.id }, 'memberJoined contribution failed');
      }
    }
  }

  /** A member left its room (`roomEmpty`: it was the last one). */
  memberLeft(roomId: string, memberId: string, roomEmpty: boolean): void {
    for (const ext of this.#list) {
      try {
        ext.memberLeft?.(roomId, memberId, roomEmpty);
      } catch (err) {
        this.#log.error({ err, roomId, peerId: memberId }, 'memberLeft contribution failed');
      }
    }
  }

  /** A member resumed from another node was seated here (no join: it never left). */
  memberArrived(roomId: string, member: MemberChannel): void {
    for (const ext of this.#list) {
      try {
        ext.memberArrived?.(roomId, member);
      } catch (err) {
        this.#log.error({ err, roomId, peerId: member.id }, 'memberArrived contribution failed');
      }
    }
  }

  /** A member went over to another node (no leave); `roomEmpty`: none is left here. */
  memberDeparted(roomId: string, memberId: string, roomEmpty: boolean): void {
    for (const ext of this.#list) {
      try {
        ext.memberDeparted?.(roomId, memberId, roomEmpty);
      } catch (err) {
        this.#log.error({ err, roomId, peerId: memberId }, 'memberDeparted contribution failed');
      }
    }
  }
}
