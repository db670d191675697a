import type { ChatMessage } from '@tutti/protocol';
import type { MemberChannel } from '../rooms/ports.ts';
import type { HistoryPage } from '../store/chatStore.ts';

/**
 * What a member had of its room's chat on the node it left (a resume through another node,
 * federation/handover.ts): every message up to seq `after`, and the ones in `seen`. The new
 * node sends it the rest (`catchUp`, paging back to the mark): what was sent while neither
 * node delivered to it (after the old one let it go, before the new one seated it).
 */
export interface ChatMark {
  after: number;
  seen: string[];
}

/** Deliveries remembered by id: a message is published within the publish timeout (5 s) of
 * its store or withdrawn, so one stored before a delivery older than this reached us too. */
const RECENT_MS = 10_000;
/** At most this many ids in a mark (federation/handoverMethods.ts checks it). */
export const MAX_SEEN = 512;

interface RoomDeliveries {
  recent: { id: string; seq: number; at: number }[];
  /** Every message up to this seq was delivered here (or is older than the recent ones). */
  settled: number;
}

/**
 * This node's side of the marks: the messages it delivered per room (recent ones by id, the
 * older ones as a seq) and per member the newest message of a page it read (join history).
 */
export class ChatMarks {
  readonly #rooms = new Map<string, RoomDeliveries>();
  readonly #floors = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Delivered to the room's members on this node. */
  delivered(message: ChatMessage): void {
    let room = this.#rooms.get(message.roomId);
    if (!room) this.#rooms.set(message.roomId, (room = { recent: [], settled: 0 }));
    room.recent.push({ id: message.id, seq: message.seq, at: this.#now() });
    this.#settle(room);
  }

  /** A page the member read: it has everything up to the page's newest message (or `had`). */
  read(memberId: string, messages: readonly ChatMessage[], had = 0): void {
    const newest = messages.reduce((n, m) => Math.max(n, m.seq), had);
    this.#floors.set(memberId, Math.max(this.#floors.get(memberId) ?? 0, newest));
  }

  /** What the member had here (taken as it goes over to another node). */
  mark(roomId: string, memberId: string): ChatMark {
    const room = this.#rooms.get(roomId);
    if (room) this.#settle(room);
    const after = Math.max(room?.settled ?? 0, this.#floors.get(memberId) ?? 0);
    const seen = (room?.recent ?? []).filter((d) => d.seq > after).map((d) => d.id);
    return { after, seen: seen.slice(-MAX_SEEN) };
  }

  forgetMember(memberId: string): void {
    this.#floors.delete(memberId);
  }

  /** The room has no member on this node any more. */
  forgetRoom(roomId: string): void {
    this.#rooms.delete(roomId);
  }

  #settle(room: RoomDeliveries): void {
    const old = this.#now() - RECENT_MS;
    while (room.recent.length > MAX_SEEN || (room.recent[0] && room.recent[0].at < old)) {
      room.settled = Math.max(room.settled, room.recent.shift()!.seq);
    }
  }
}

/**
 * Per member: the ids delivered live while one of its pages is read (left out of the page),
 * and the ids a catch-up sent it (not delivered live again when the bus brings them late).
 */
export class LiveDeliveries {
  readonly #reading = new Map<string, Set<string>>();
  readonly #sent = new Map<string, { ids: Set<string>; until: number }>();

  watch(memberId: string): Set<string> {
    const live = new Set<string>();
    this.#reading.set(memberId, live);
    return live;
  }

  unwatch(memberId: string, live: Set<string>): void {
    if (this.#reading.get(memberId) === live) this.#reading.delete(memberId);
  }

  /** A live delivery to the member: false when a catch-up sent it already. */
  deliver(memberId: string, id: string): boolean {
    // Once per recipient of every message: no lookup while nobody reads a page.
    if (this.#reading.size !== 0) this.#reading.get(memberId)?.add(id);
    if (this.#sent.size === 0) return true;
    const sent = this.#sent.get(memberId);
    if (!sent) return true;
    if (sent.until < Date.now()) {
      this.#sent.delete(memberId);
      return true;
    }
    return !sent.ids.has(id);
  }

  sent(memberId: string, ids: readonly string[]): void {
    if (ids.length === 0) return;
    const known = this.#sent.get(memberId)?.ids ?? new Set<string>();
    for (const id of ids) known.add(id);
    this.#sent.set(memberId, { ids: known, until: Date.now() + RECENT_MS });
  }

  forget(memberId: string): void {
    this.#reading.delete(memberId);
    this.#sent.delete(memberId);
  }
}

export interface CatchUpDeps {
  /**
   * A page of the room's history for the viewer, oldest first: without `before` the latest,
   * read in its turn after the room's appends; with it, the one older than that message.
   */
  page(roomId: string, viewerId: string, before?: string): Promise<HistoryPage>;
  roomOf(peerId: string): string;
  present(message: ChatMessage, viewerId: string): ChatMessage;
  withdrawn: ReadonlySet<string>;
  marks: ChatMarks;
  live: LiveDeliveries;
  /** At most this much is caught up (default CATCH_UP_LIMITS); more: `chat.gap`. */
  limits?: CatchUpLimits;
}

export interface CatchUpLimits {
  messages: number;
  /** Of the messages' JSON (they queue on the member's socket: signaling.maxBufferedBytes). */
  bytes: number;
}

/** The older pages a catch-up reads (after the room's latest one), in messages. */
export const CATCH_UP_PAGE = 500;

/** A gap bigger than this is not pushed message by message: the member re-reads instead. */
export const CATCH_UP_LIMITS: CatchUpLimits = { messages: 2000, bytes: 1024 * 1024 };

/**
 * A member resumed here from another node: the messages it neither had there (`mark`) nor
 * got live here since it was seated, once each, oldest first. Pages back through the history
 * until it reaches the mark; a gap over the limits (or a read that fails) is not sent but
 * told (`chat.gap`): the client reads the history again. Call it in the tick the member was
 * seated (what is delivered from then on counts as had). Resolves how many were sent.
 */
export async function catchUp(
  deps: CatchUpDeps,
  peer: MemberChannel,
  mark: ChatMark,
): Promise<number> {
  const roomId = deps.roomOf(peer.id);
  const live = deps.live.watch(peer.id);
  // Delivered there already: not again here, if the bus brings one here only now.
  deps.live.sent(peer.id, mark.seen);
  const limits = deps.limits ?? CATCH_UP_LIMITS;
  try {
    const seen = new Set(mark.seen);
    const since = await readSince(deps, roomId, peer.id, mark.after, limits.messages + seen.size);
    const missed = (since ?? [])
      .filter((m) => !seen.has(m.id) && !live.has(m.id) && !deps.withdrawn.has(m.id))
      .sort((a, b) => a.seq - b.seq);
    if (!since || missed.length > limits.messages || jsonBytes(missed) > limits.bytes) {
      void peer.notify('chat.gap', { reason: 'too-many' });
      return 0;
    }
    deps.marks.read(peer.id, since, mark.after);
    deps.live.sent(
      peer.id,
      missed.map((m) => m.id),
    );
    for (const m of missed) void peer.notify('chat.message', { message: deps.present(m, peer.id) });
    return missed.length;
  } catch (err) {
    void peer.notify('chat.gap', { reason: 'failed' });
    throw err;
  } finally {
    deps.live.unwatch(peer.id, live);
  }
}

/**
 * The room's messages after seq `after` (newest page first, then older ones), or undefined
 * when there are more than `most` of them.
 */
async function readSince(
  deps: CatchUpDeps,
  roomId: string,
  viewerId: string,
  after: number,
  most: number,
): Promise<ChatMessage[] | undefined> {
  const since: ChatMessage[] = [];
  for (let page = await deps.page(roomId, viewerId); ;) {
    for (const m of page.messages) if (m.seq > after) since.push(m);
    if (since.length > most) return undefined;
    const oldest = page.messages[0];
    if (!oldest || oldest.seq <= after || !page.hasMore) return since;
    page = await deps.page(roomId, viewerId, oldest.id);
  }
}

function jsonBytes(messages: readonly ChatMessage[]): number {
  return messages.reduce((n, m) => n + Buffer.byteLength(JSON.stringify(m)), 0);
}
