import type { PeerInfo } from '@tutti/protocol';
import type { RoomRecord } from '../store/RoomStore.ts';
import type { MemberRef } from './ports.ts';
import type { Room } from './Room.ts';

/**
 * What the registry asks of the cluster (federation/presence.ts implements it; a single node
 * without one behaves as before). The registry stays the owner of this node's rooms and
 * members; the federation adds the members of other nodes and the cluster-wide seats.
 */
export interface RoomFederation {
  /** A room entered this node's registry (created, loaded, learned from another node). */
  watch(room: Room): void;
  /** A room this node does not know (created on another node just now): from the store. */
  find(roomId: string): Promise<Room | undefined>;
  /** Before a join is checked: the room's record as the shared store has it now. */
  current(room: Room): Promise<void>;
  /**
   * Before admission: takes the member's cluster seat (ROOM_FULL when the room is full
   * cluster-wide; MEDIA_UNAVAILABLE when the cluster can't be reached in time) and its
   * nickname, de-duplicated cluster-wide; answers it and the nicknames of other nodes.
   */
  admitting(
    room: Room,
    memberId: string,
    nickname: string,
  ): Promise<{ nickname: string; takenElsewhere: readonly string[] }>;
  /** The admission failed after admitting(): give the seat and the nickname back. */
  notAdmitted(roomId: string, memberId: string): void;
  remotePeers(roomId: string): PeerInfo[];
  remoteCount(roomId: string): number;
  remoteMember(roomId: string, peerId: string): MemberRef | undefined;
  /** A member on another node, with the node it sits on (moderation relays to it). */
  remoteHost(roomId: string, peerId: string): { nodeId: string; peer: PeerInfo } | undefined;
  /** This node created or changed a room's record: the other nodes reload it. */
  recordChanged(roomId: string): void;
  /** This node deleted a room: the other nodes close it for their members. */
  recordDeleted(roomId: string): void;
  /** Whether other nodes host members of the room (idle cleanup keeps it). */
  hostedElsewhere(roomId: string): Promise<boolean>;
}

/** What the registry lends its federation to apply other nodes' changes to this node's rooms. */
export interface RegistryHands {
  /** A record another node created (from the shared store): a room here too (no lobby push). */
  add(record: RoomRecord): Room;
  /** Out of the registry (deleted on another node); the caller closes it, pushes the lobby. */
  forget(roomId: string): void;
  /** The record changed: members are told room.updated, the lobby refreshes. */
  refreshed(room: Room): void;
  lobbyChanged(): void;
}
