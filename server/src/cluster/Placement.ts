/** The outcome of a seat reservation: admitted or not, and the room's count afterwards. */
export interface SeatResult {
  ok: boolean;
  count: number;
}

export interface RoomSpread {
  count: number;
  /** Members per node hosting any. */
  nodes: Record<string, number>;
  /** The node that hosted the room first (handed on while that node has no members left). */
  firstNode: string | null;
}

/**
 * Which nodes host which room's members, and the cluster-wide seat count. Every operation
 * is atomic in the store, so two nodes admitting at once can never pass a room's capacity.
 * All of it is idempotent: reserving a seat a member already holds, releasing one twice or
 * releasing a dead node's seats from several nodes at once are harmless.
 */
export interface RoomPlacement {
  /** Takes a seat for memberId on nodeId if the room has fewer than `capacity`. */
  reserve(roomId: string, memberId: string, nodeId: string, capacity: number): Promise<SeatResult>;
  /** The node a member's seat is on (null: it holds none). */
  seatOf(roomId: string, memberId: string): Promise<string | null>;
  /** Gives the seat back; resolves whether there was one. */
  release(roomId: string, memberId: string): Promise<boolean>;
  /** Releases every seat held on a node (it left or was declared gone); resolves how many. */
  releaseNode(nodeId: string): Promise<number>;
  /** How a room is spread over the nodes. */
  spread(roomId: string): Promise<RoomSpread>;
  /** Every room with members and its total count: the cluster-wide lobby. */
  rooms(): Promise<{ roomId: string; count: number }[]>;
}
