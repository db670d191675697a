import type { PeerInfo } from '@tutti/protocol';

/** A member that left with its node: where it sat, to tell that room's local members. */
export interface GoneMember {
  roomId: string;
  peerId: string;
  nickname: string;
}

/**
 * The members of rooms that sit on other nodes of the cluster, as their nodes announced them
 * (roomId → nodeId → peerId → what everybody sees of it). Only what the room's local members
 * need to see: no media, no channel. Every node keeps every room's remote members (the bus
 * carries all of them), so a first local member finds the others already known.
 */
export class RemoteMembers {
  readonly #rooms = new Map<string, Map<string, Map<string, PeerInfo>>>();

  /** Adds or replaces a member; returns whether it was new (not known on any node). */
  put(roomId: string, nodeId: string, peer: PeerInfo): boolean {
    const moved = this.#dropElsewhere(roomId, nodeId, peer.id);
    const nodes = this.#rooms.get(roomId) ?? new Map<string, Map<string, PeerInfo>>();
    this.#rooms.set(roomId, nodes);
    const peers = nodes.get(nodeId) ?? new Map<string, PeerInfo>();
    nodes.set(nodeId, peers);
    const isNew = !moved && !peers.has(peer.id);
    peers.set(peer.id, { ...peer });
    return isNew;
  }

  /** Removes a member; returns what it was, if it was known. */
  remove(roomId: string, peerId: string): PeerInfo | undefined {
    const nodes = this.#rooms.get(roomId);
    for (const [nodeId, peers] of nodes ?? []) {
      const peer = peers.get(peerId);
      if (!peer) continue;
      peers.delete(peerId);
      if (peers.size === 0) nodes!.delete(nodeId);
      if (nodes!.size === 0) this.#rooms.delete(roomId);
      return peer;
    }
    return undefined;
  }

  /** A node's members of one room, as its snapshot says; returns who joined and who left. */
  replace(
    roomId: string,
    nodeId: string,
    snapshot: readonly PeerInfo[],
  ): { joined: PeerInfo[]; left: GoneMember[] } {
    const before = this.#rooms.get(roomId)?.get(nodeId) ?? new Map<string, PeerInfo>();
    const ids = new Set(snapshot.map((p) => p.id));
    const left: GoneMember[] = [];
    for (const peer of [...before.values()]) {
      if (ids.has(peer.id)) continue;
      this.remove(roomId, peer.id);
      left.push({ roomId, peerId: peer.id, nickname: peer.nickname });
    }
    const joined = snapshot.filter((p) => this.put(roomId, nodeId, p));
    return { joined, left };
  }

  /**
   * Forgets every member of a node (it left the cluster), or those that joined before
   * `before` (it restarted: members announced since belong to the new process); returns them.
   */
  removeNode(nodeId: string, before = Infinity): GoneMember[] {
    const gone: GoneMember[] = [];
    for (const [roomId, nodes] of [...this.#rooms]) {
      const peers = nodes.get(nodeId);
      for (const p of [...(peers?.values() ?? [])]) {
        if (p.joinedAt >= before) continue;
        peers!.delete(p.id);
        gone.push({ roomId, peerId: p.id, nickname: p.nickname });
      }
      if (peers?.size === 0) nodes.delete(nodeId);
      if (nodes.size === 0) this.#rooms.delete(roomId);
    }
    return gone;
  }

  /** Forgets a room (deleted). */
  removeRoom(roomId: string): void {
    this.#rooms.delete(roomId);
  }

  get(roomId: string, peerId: string): PeerInfo | undefined {
    for (const peers of this.#rooms.get(roomId)?.values() ?? []) {
      const peer = peers.get(peerId);
      if (peer) return { ...peer };
    }
    return undefined;
  }

  /** The member and the node it sits on. */
  find(roomId: string, peerId: string): { nodeId: string; peer: PeerInfo } | undefined {
    for (const [nodeId, peers] of this.#rooms.get(roomId) ?? []) {
      const peer = peers.get(peerId);
      if (peer) return { nodeId, peer: { ...peer } };
    }
    return undefined;
  }

  peers(roomId: string): PeerInfo[] {
    const out: PeerInfo[] = [];
    for (const peers of this.#rooms.get(roomId)?.values() ?? []) {
      for (const p of peers.values()) out.push({ ...p });
    }
    return out;
  }

  /** The nodes this node lists members of the room for. */
  nodesOf(roomId: string): string[] {
    return [...(this.#rooms.get(roomId)?.keys() ?? [])];
  }

  count(roomId: string): number {
    let n = 0;
    for (const peers of this.#rooms.get(roomId)?.values() ?? []) n += peers.size;
    return n;
  }

  /** A member moved between nodes (resumed elsewhere): one copy is kept; was it elsewhere? */
  #dropElsewhere(roomId: string, nodeId: string, peerId: string): boolean {
    let found = false;
    for (const [other, peers] of this.#rooms.get(roomId) ?? []) {
      if (other === nodeId || !peers.delete(peerId)) continue;
      found = true;
      if (peers.size === 0) this.#rooms.get(roomId)?.delete(other);
    }
    return found;
  }
}
