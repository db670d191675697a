import type { GuessOutcome } from './engine.ts';
import type {
  GameEvent,
  GamePlayer,
  GameRequestMethod,
  RoomLifeJoinExtras,
  Stroke,
} from './protocol.ts';
import type { LifeWrite, SavedLife } from './saved.ts';

/** What became of a write of a life run here (RemoteRoomLife.saveLife). */
export type LifeSaveOutcome = 'saved' | 'taken' | 'failed';

/** A member asking something of room life: who, and whether an owner or moderator. */
export interface LifeCaller {
  memberId: string;
  moderator: boolean;
}

/**
 * Room life across the nodes of a cluster (federation/roomLifeRelay.ts implements it; a single
 * node has none). One node runs a room's life, its authority: the others forward their
 * members' requests there, and the authority's events reach their members through them.
 */
export interface RemoteRoomLife {
  /** The node that runs the room's life; undefined when it is this one (it may just have become it). */
  authority(roomId: string): Promise<string | undefined>;
  /** Runs a request on the authority node; resolves its answer, rejects with its error. */
  request(
    nodeId: string,
    roomId: string,
    memberId: string,
    method: GameRequestMethod,
    data: unknown,
  ): Promise<unknown>;
  joinExtras(nodeId: string, roomId: string, memberId: string): Promise<RoomLifeJoinExtras>;
  chat(nodeId: string, roomId: string, memberId: string, text: string): Promise<GuessOutcome>;
  /** The room's members on other nodes (players of a life run here). */
  members(roomId: string): GamePlayer[];
  /** An event of a life run here, to the room's members on other nodes (`to`: to that one). */
  publish(roomId: string, event: GameEvent, to?: string): void;
  /** This node runs the room's life no more (the room emptied cluster-wide): its saved life goes too. */
  release(roomId: string): void;
  /**
   * Keeps a life run here in the shared store (while this node holds the room): `taken` when
   * another node holds the room now (the life here is stale), `failed` when not written for
   * any other reason (the store failed: the life may well still be ours).
   */
  saveLife(roomId: string, write: LifeWrite): Promise<LifeSaveOutcome>;
  /**
   * Whether this node still holds the room (a plain read of the claim): false when another
   * node does, undefined when the store cannot say.
   */
  holds(roomId: string): Promise<boolean | undefined>;
  /** What the room's last authority saved, checked (saved.ts); null when none, or dropped. */
  loadLife(roomId: string): Promise<{ life: SavedLife; strokes: Stroke[] } | null>;
}

/** What the games module serves the federation: its side of RemoteRoomLife. */
export interface RoomLifeService {
  /** A request of a member on another node (the caller as presence knows it). */
  handle(
    roomId: string,
    caller: LifeCaller,
    method: GameRequestMethod,
    data: unknown,
  ): Promise<unknown>;
  joinExtras(roomId: string, memberId: string): Promise<RoomLifeJoinExtras>;
  chat(roomId: string, memberId: string, text: string): Promise<GuessOutcome>;
  /** An event of a life another node runs (`from`), for members here. */
  deliver(from: string, roomId: string, event: GameEvent, to?: string): void;
  /** The room's members on other nodes changed. */
  membersChanged(roomId: string): void;
  /** A node left the cluster: the lives it ran are gone. */
  nodeGone(nodeId: string): void;
  /**
   * This node came back from a stall or from being declared gone: another node may have
   * taken over rooms it ran; each life run here checks its claim.
   */
  recheck(): void;
}
