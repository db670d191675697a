import type { ModerationSettings, WaitingPerson } from '@tutti/protocol';

/** Someone waiting, and the node whose connection they wait on. */
export interface WaitingEntry extends WaitingPerson {
  nodeId: string;
}

/** Who knocks, as bars and remembered moderators know people. */
export interface Knocker {
  accountId: string | null;
  address: string;
}

/** What a node needs to know at a room's door, read in one go from the shared state. */
export interface DoorView {
  /** The live settings; null when none were set (then the room record's stored ones apply). */
  settings: ModerationSettings | null;
  barred: boolean;
  rememberedModerator: boolean;
}

/**
 * Room-wide moderation state shared by the nodes of a cluster: the settings as they are now
 * (the lock included), the bars, the remembered moderators and the waiting list. On Redis in
 * a cluster (federation/roomWideState.ts), in memory for a node alone or the "nodes" of one
 * process. Every node reads it at the door, so a change made on one holds on all at once.
 */
export interface SharedModerationState {
  door(roomId: string, who: Knocker): Promise<DoorView>;
  settings(roomId: string): Promise<ModerationSettings | null>;
  /**
   * Sets the fields of `patch` only (two moderators changing two settings through two nodes
   * at once undo neither), the others from `base` where none were set; answers the result.
   */
  changeSettings(
    roomId: string,
    base: ModerationSettings,
    patch: Partial<ModerationSettings>,
  ): Promise<ModerationSettings>;
  bar(roomId: string, who: Knocker): Promise<void>;
  rememberModerator(roomId: string, accountId: string, on: boolean): Promise<void>;
  /** Onto the room's waiting list (again: the new nickname, the old place); 'full' at `max`. */
  knock(roomId: string, entry: WaitingEntry, max: number): Promise<'added' | 'updated' | 'full'>;
  /** Off the waiting list (admitted, denied, gone). */
  unknock(roomId: string, ids: readonly string[]): Promise<void>;
  waiting(roomId: string): Promise<WaitingEntry[]>;
  /** The room was deleted: its state goes with it. */
  forget(roomId: string): Promise<void>;
  /**
   * Takes off every room's waiting list the people `nodeId` put there before `before` (a
   * previous life of that node: a process that crashed and left them behind); answers the
   * rooms whose list changed.
   */
  releaseNode(nodeId: string, before: number): Promise<string[]>;
  close(): Promise<void>;
}

/** How a bar names someone: their account, else (a guest) their address. */
export const barKey = (who: Knocker): string =>
  who.accountId ? `a:${who.accountId}` : `ip:${who.address}`;

interface RoomEntry {
  settings: ModerationSettings | null;
  barred: Set<string>;
  moderators: Set<string>;
  waiting: Map<string, WaitingEntry>;
}

/** The shared state in this process (a node alone, or the in-process "nodes" of a test). */
export class MemoryModerationState implements SharedModerationState {
  readonly #rooms = new Map<string, RoomEntry>();

  #room(roomId: string): RoomEntry {
    let room = this.#rooms.get(roomId);
    if (!room) {
      room = { settings: null, barred: new Set(), moderators: new Set(), waiting: new Map() };
      this.#rooms.set(roomId, room);
    }
    return room;
  }

  async door(roomId: string, who: Knocker): Promise<DoorView> {
    const room = this.#rooms.get(roomId);
    return {
      settings: room?.settings ? { ...room.settings } : null,
      barred: room?.barred.has(barKey(who)) ?? false,
      rememberedModerator: who.accountId !== null && !!room?.moderators.has(who.accountId),
    };
  }

  async settings(roomId: string): Promise<ModerationSettings | null> {
    const settings = this.#rooms.get(roomId)?.settings;
    return settings ? { ...settings } : null;
  }

  async changeSettings(
    roomId: string,
    base: ModerationSettings,
    patch: Partial<ModerationSettings>,
  ): Promise<ModerationSettings> {
    const room = this.#room(roomId);
    room.settings = { ...(room.settings ?? base), ...patch };
    return { ...room.settings };
  }

  async bar(roomId: string, who: Knocker): Promise<void> {
    this.#room(roomId).barred.add(barKey(who));
  }

  async rememberModerator(roomId: string, accountId: string, on: boolean): Promise<void> {
    const { moderators } = this.#room(roomId);
    if (on) moderators.add(accountId);
    else moderators.delete(accountId);
  }

  async knock(roomId: string, entry: WaitingEntry, max: number) {
    const { waiting } = this.#room(roomId);
    const known = waiting.get(entry.id);
    if (known) {
      known.nickname = entry.nickname;
      return 'updated' as const;
    }
    if (waiting.size >= max) return 'full' as const;
    waiting.set(entry.id, { ...entry });
    return 'added' as const;
  }

  async unknock(roomId: string, ids: readonly string[]): Promise<void> {
    const waiting = this.#rooms.get(roomId)?.waiting;
    for (const id of ids) waiting?.delete(id);
  }

  async waiting(roomId: string): Promise<WaitingEntry[]> {
    const waiting = this.#rooms.get(roomId)?.waiting.values() ?? [];
    return [...waiting].map((e) => ({ ...e })).sort((a, b) => a.since - b.since);
  }

  async forget(roomId: string): Promise<void> {
    this.#rooms.delete(roomId);
  }

  async releaseNode(nodeId: string, before: number): Promise<string[]> {
    const changed: string[] = [];
    for (const [roomId, { waiting }] of this.#rooms) {
      const left = [...waiting.values()].filter((e) => e.nodeId === nodeId && e.since < before);
      for (const e of left) waiting.delete(e.id);
      if (left.length > 0) changed.push(roomId);
    }
    return changed;
  }

  async close(): Promise<void> {}
}
