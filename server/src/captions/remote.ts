import type { CaptionLine } from '@tutti/protocol';

/**
 * Captions across the nodes of a cluster (federation/captionsRelay.ts; a single node has
 * none). Each node transcribes the mics produced on it; their lines, and turning captions on
 * or off, reach the room's members on every node.
 */
export interface RemoteCaptions {
  /** A line of a speaker here, to the room's members elsewhere. */
  line(roomId: string, line: CaptionLine): void;
  /** Captions were turned on (by `by`) or off here: the other nodes follow. */
  switched(roomId: string, enabled: boolean, by: string | null): void;
  /** Whether captions are on in the room on any other live node (asked when first needed). */
  catchUp(roomId: string): Promise<CaptionsSwitch>;
}

export interface CaptionsSwitch {
  enabled: boolean;
  /** Who turned them on (a peer id), when known. */
  by: string | null;
}

/** What the captions module serves the federation. */
export interface CaptionsService {
  lineElsewhere(roomId: string, line: CaptionLine): void;
  switchedElsewhere(roomId: string, enabled: boolean, by: string | null): Promise<void>;
  /** Whether captions are on in the room here (for a node catching up). */
  stateHere(roomId: string): CaptionsSwitch;
}
