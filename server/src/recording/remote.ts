import type { RecordingState, Role } from '@tutti/protocol';

/**
 * A room's recording as the other nodes of the cluster see it (federation/recordingRelay.ts
 * implements it; a single node has none). A room is recorded on one node — the one where
 * `recording.start` ran — and every other node shows its state to its own members and
 * relays `recording.stop` there.
 */
export interface RemoteRecording {
  /** The room's recording on another node (active, or finishing), or undefined. */
  elsewhere(roomId: string): { nodeId: string; state: RecordingState } | undefined;
  /** Learns the room's state from the other nodes if this node may have missed it. */
  catchUp(roomId: string): Promise<void>;
  /** This node's recording of the room changed: tell the other nodes. */
  announce(roomId: string, state: RecordingState): void;
  /** Stops it on the node that records it; rejects with that node's error. */
  stop(roomId: string, actorId: string, ownerSecret: string | undefined): Promise<RecordingState>;
}

/** What the relay needs of this node's recorder (the calls that arrive from other nodes). */
export interface LocalRecording {
  /** This node's own recording of the room (idle when it records none). */
  localState(roomId: string): RecordingState;
  /** A stop from another node's member, whose role that node announced. */
  stopFor(roomId: string, role: Role, ownerSecret: string | undefined): Promise<RecordingState>;
  /** Another node's recording of the room changed: tell this node's members. */
  remoteChanged(roomId: string): void;
}
