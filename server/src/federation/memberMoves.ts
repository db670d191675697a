import type { PeerInfo } from '@tutti/protocol';
import type { RoomPlacement } from '../cluster/index.ts';
import type { Logger } from '../kernel/log.ts';
import type { GoneMember, RemoteMembers } from '../rooms/remoteMembers.ts';
import type { Room } from '../rooms/Room.ts';
import type { NicknameHolds } from './nicknameHolds.ts';
import type { PresenceBus } from './presenceBus.ts';
import type { SeatReleases } from './seatReleases.ts';
import { clusterCall } from './timeout.ts';

export interface MemberMovesDeps {
  nodeId: string;
  placement: RoomPlacement;
  bus: PresenceBus;
  /** Presence's view of the other nodes' members. */
  remote: RemoteMembers;
  releases: SeatReleases;
  names: NicknameHolds;
  log: Logger;
  timeoutMs: number;
  /** The rooms' local members are told these left. */
  tellLeft(gone: readonly GoneMember[]): void;
  /** The other nodes' members of a room changed (lobby, idle clock, room life). */
  changed(roomId: string): void;
}

/**
 * Presence's side of a member going over from one node to another (it resumed its
 * membership through another node: federation/handover.ts). Nobody sees it leave or join:
 * its cluster seat and its nickname move atomically to the new node, the old node lists it
 * as the new node's member, and the new node's announcement (`member.joined`) reaches the
 * others as an update of a member they know. Only if the move fails half-way does the
 * member leave, for everyone.
 */
export class MemberMoves {
  readonly #d: MemberMovesDeps;

  constructor(deps: MemberMovesDeps) {
    this.#d = deps;
  }

  /** Old node: one of ours went over to `toNode`; it is listed there, nobody is told. */
  handedOver(roomId: string, peer: PeerInfo, toNode: string): void {
    this.#d.remote.put(roomId, toNode, peer);
    this.#d.changed(roomId);
  }

  /** New node, before seating: the member's seat and nickname come over from `fromNode`. */
  async arriving(room: Room, peer: PeerInfo, fromNode: string): Promise<void> {
    // Past capacity if need be: the member is inside already. Atomic: the seat moves.
    const seat = this.#d.placement.reserve(
      room.id,
      peer.id,
      this.#d.nodeId,
      Number.MAX_SAFE_INTEGER,
    );
    await clusterCall(seat, this.#d.timeoutMs, this.#d.log, 'the cluster could not seat you');
    await this.#d.names.move(room.id, peer.id, peer.nickname, fromNode);
  }

  /** New node: seated; no longer another node's member here; the others hear of it. */
  seated(roomId: string, peer: PeerInfo): void {
    this.#d.remote.remove(roomId, peer.id);
    this.#d.bus.publish({ type: 'member.joined', roomId, peer });
  }

  /**
   * The move failed half-way (the new node could not seat it, or never did): the member
   * left, for everyone. Its seat goes, its nickname (held by any of `nodes`) too.
   */
  movedAway(roomId: string, peer: PeerInfo, nodes: readonly string[]): void {
    this.#d.releases.release(roomId, peer.id);
    for (const node of nodes) this.#d.names.release(roomId, peer.id, peer.nickname, node);
    this.#d.bus.publish({ type: 'member.left', roomId, peerId: peer.id });
    if (this.#d.remote.remove(roomId, peer.id)) {
      this.#d.tellLeft([{ roomId, peerId: peer.id, nickname: peer.nickname }]);
    }
    this.#d.changed(roomId);
  }

  /** Where the member's seat is now (the old node checks that the move went through). */
  seatOf(roomId: string, peerId: string): Promise<string | null> {
    return clusterCall(
      this.#d.placement.seatOf(roomId, peerId),
      this.#d.timeoutMs,
      this.#d.log,
      'seat',
    );
  }
}
