import type { SharedModerationState } from './sharedState.ts';

/** A moderator's action on one person (the actions that may cross nodes). */
export type TargetedAction =
  | { kind: 'setRole'; role: 'moderator' | 'participant' }
  | { kind: 'mute' }
  | { kind: 'allowUnmute' }
  | { kind: 'stopVideo'; source: 'camera' | 'screen' }
  | { kind: 'remove'; ban: boolean };

/** What changed in a room's shared moderation state (the other nodes read it again). */
export type SharedChange = 'settings' | 'waiting';

/**
 * Moderation across the nodes of a cluster (federation/moderationRelay.ts implements it; a
 * single node has none): an action on a person who sits on another node runs on that node,
 * authorized there from the actor's role as this node announced it; the room-wide state is
 * shared (`state`), and its changes are announced so every node tells its own members.
 */
export interface RemoteModeration {
  readonly state: SharedModerationState;
  /** Whether `targetId` is a member of the room on another node. */
  hosts(roomId: string, targetId: string): boolean;
  /** Runs the action on the target's node; rejects with that node's error. */
  forward(roomId: string, actorId: string, targetId: string, action: TargetedAction): Promise<void>;
  /** Whether a node is a live member of the cluster (waiting entries of a dead one are void). */
  live(nodeId: string): boolean;
  readonly nodeId: string;
  /** The shared state changed: the other nodes read it again and tell their members. */
  announce(roomId: string, change: SharedChange): void;
  /** Admits or denies someone who waits on another node (that node's error, if any). */
  decide(
    roomId: string,
    actorId: string,
    nodeId: string,
    waitingId: string,
    decision: 'admit' | 'deny',
  ): Promise<void>;
  /** Ends the meeting on every other node (their members and waiting people go). */
  end(roomId: string, actorId: string): Promise<void>;
  /** The admin API's mute or remove of a member on another node; the paused producers. */
  admin(roomId: string, targetId: string, action: 'mute' | 'remove'): Promise<string[]>;
}
