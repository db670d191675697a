import type { E2eeEpochReason } from '@tutti/protocol';

/**
 * An E2EE room's key epoch across the cluster's nodes (federation/e2eeEpochs.ts implements
 * it; a single node has none). Members of one room sit on several nodes but must seal with
 * one epoch, so every node moves to the highest epoch any node announced.
 */
export interface RemoteEpochs {
  /** This node moved the room to `epoch`: tell the others. */
  announce(roomId: string, epoch: number, reason: E2eeEpochReason): void;
  /** The highest epoch the other live nodes hold for the room (0 when none knows it). */
  highest(roomId: string): Promise<number>;
}

/** What the relay needs of this node's epochs. */
export interface LocalEpochs {
  epochOf(roomId: string): number;
  /** Another node moved the room to `epoch`: follow if it is ahead. */
  adopt(roomId: string, epoch: number, reason: E2eeEpochReason): void;
}
