/** A moderator's action on one person (the actions that may cross nodes). */
export type TargetedAction =
  | { kind: 'setRole'; role: 'moderator' | 'participant' }
  | { kind: 'mute' }
  | { kind: 'allowUnmute' }
  | { kind: 'stopVideo'; source: 'camera' | 'screen' }
  | { kind: 'remove'; ban: boolean };

/**
 * Moderation of a person who sits on another node of the cluster: the action runs on that
 * node, authorized there from the actor's role as this node announced it
 * (federation/moderationRelay.ts implements it; a single node has none).
 */
export interface RemoteModeration {
  /** Whether `targetId` is a member of the room on another node. */
  hosts(roomId: string, targetId: string): boolean;
  /** Runs the action on the target's node; rejects with that node's error. */
  forward(roomId: string, actorId: string, targetId: string, action: TargetedAction): Promise<void>;
}
