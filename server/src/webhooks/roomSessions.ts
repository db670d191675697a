/**
 * A room's run as the webhooks report it (room_started … room_finished): from its first member
 * anywhere in the cluster to its last. The webhooks module asks through this port; the
 * federation decides it atomically for the whole cluster (federation/roomSessions.ts), so two
 * nodes never both start or both finish one run. Each call answers for this node's member.
 */
export interface RoomSessions {
  /** Admitted here: true when nobody else was in the room anywhere (this started it). */
  joined(roomId: string, memberId: string, name: string): Promise<boolean>;
  /** Came over from another node (it resumed here): in the room as before, nothing starts. */
  arrived(roomId: string, memberId: string): Promise<void>;
  /** Went over to another node: counted there once it arrives, gone if it never does. */
  departed(roomId: string, memberId: string): void;
  /**
   * Left here (`nodeEmpty`: nobody of the room is left on this node): the room's name, as it
   * was when the run started, when this was its last member anywhere (this finished it).
   */
  left(roomId: string, memberId: string, nodeEmpty: boolean): Promise<string | undefined>;
  /** Runs that ended without a leave here: a node died with the room's last members. */
  onFinished(fn: (roomId: string, name: string) => void): void;
  /**
   * This node was taken for dead and is back (its members were released by the others):
   * `fn` joins its members again (a run finished meanwhile starts anew).
   */
  onReturned(fn: () => void): void;
}
