import type { ChatMessage, SharedFile } from '@tutti/protocol';
import { TuttiError } from '@tutti/protocol';
import { KeyedRateLimiter } from '../kernel/rateLimit.ts';
import type { MemberChannel, RoomDirectory } from '../rooms/ports.ts';
import {
  MAX_APPEND_BATCH,
  type AppendRequest,
  type AppendResult,
  type ChatStore,
  type HistoryPage,
  type NewChatMessage,
} from '../store/chatStore.ts';
import type { ChatBus } from './ChatBus.ts';
import { fanOut } from './fanOut.ts';
import { CATCH_UP_PAGE, catchUp, ChatMarks, LiveDeliveries, type ChatMark } from './catchUp.ts';
import { publishWithin } from './publish.ts';
import { fitHistoryPage } from './historyBudget.ts';
import { RoomQueues } from './roomQueue.ts';
import type { ChatSettings } from './settings.ts';
import { traceClock, type ChatTrace } from './trace.ts';

/** A stored message and its publish (started in store order; none for a key stored before). */
interface Appended {
  stored: ChatMessage;
  created: boolean;
  done: Promise<void>;
}

/**
 * Rewrites a message for one recipient (file links carry the recipient's access token).
 * Only file messages are personalised: a message without `file` reaches every recipient
 * as is (its notification is serialized once for the whole room).
 */
export type Presenter = (message: ChatMessage, viewerPeerId: string) => ChatMessage;

/**
 * Sees each accepted message before it is stored (the games module: a guess may score).
 * Throwing a TuttiError refuses it: nothing is stored or relayed, the sender gets the error.
 * It may be asynchronous (in a cluster the game may run on another node).
 */
export type ChatScreen = (roomId: string, senderId: string, text: string) => void | Promise<void>;

/** A connection as chat sees it: only its id (membership is asked of the rooms). */
export type ChatPeer = Pick<MemberChannel, 'id'>;

export type { ChatSettings } from './settings.ts';

const DEFAULT_HISTORY_BYTES = 256 * 1024;

/** How many withdrawn message ids this node remembers (so a late bus echo is not delivered). */
const WITHDRAWN_REMEMBERED = 1000;

/**
 * Chat: rate-limit → validate → screen → store → publish on the bus; the bus subscription
 * delivers to this node's members, applying private-message visibility per recipient.
 *
 * Idempotency keys cost no round trip of their own: the append's batch answers a key stored
 * before with the earlier message (`created: false`: nothing published, the rate token given
 * back). Only a send refused before the store looks its key up, so that an outbox resend is
 * answered rather than refused; a resend that passes is screened again (a game sees the
 * guess twice: the first correct one closed the round, so the second scores nothing).
 *
 * Store-then-publish, and the sender's answer says what happened: stored and published →
 * the message; the store failed → its error, nothing published; the bus failed or timed out
 * → NOT_DELIVERED, and the message is withdrawn (deleted from the history, never delivered
 * here later). Per room, appends and join-history reads take turns (the appends queued
 * while a write is in flight go in one batch: group commit, one round trip for all) and
 * each publish starts in store order, so this node delivers messages in the order it
 * stored them.
 */
export class ChatService {
  readonly #store: ChatStore;
  readonly #bus: ChatBus;
  readonly #rooms: RoomDirectory;
  readonly #settings: ChatSettings;
  readonly #limiter: KeyedRateLimiter;
  readonly #unsubscribe: () => void;
  readonly #present: Presenter;
  readonly #screen: ChatScreen | undefined;
  readonly #publishTimeoutMs: number;
  /** Per room: its appends (group-committed) and join-history reads, one turn at a time. */
  readonly #queues: RoomQueues<AppendRequest, Appended>;
  /** Ids delivered live while a member's page is read; ids a catch-up sent it. */
  readonly #live = new LiveDeliveries();
  /** What this node delivered (a member going over to another node takes its mark). */
  readonly #marks = new ChatMarks();
  /** Messages whose publish failed (insertion order, oldest first). */
  readonly #withdrawn = new Set<string>();
  /** Opt-in per-message timings (chat.traceDir). */
  readonly #trace: ChatTrace | undefined;

  constructor(opts: {
    store: ChatStore;
    bus: ChatBus;
    rooms: RoomDirectory;
    settings: ChatSettings;
    /** Personalises file messages (the files concern's links); default: as stored. */
    present?: Presenter | undefined;
    /** The games module's hook on chat text (guesses; the drawer's word is refused). */
    screen?: ChatScreen | undefined;
    trace?: ChatTrace | undefined;
  }) {
    this.#trace = opts.trace;
    this.#store = opts.store;
    this.#bus = opts.bus;
    this.#rooms = opts.rooms;
    this.#settings = opts.settings;
    this.#present = opts.present ?? ((m) => m);
    this.#screen = opts.screen;
    this.#limiter = new KeyedRateLimiter(opts.settings);
    this.#publishTimeoutMs = opts.settings.publishTimeoutMs ?? 5000;
    this.#queues = new RoomQueues({
      run: (items) => this.#appendBatch(items),
      maxBatch: MAX_APPEND_BATCH,
      queueWaitMs: opts.settings.queueWaitMs ?? 5000,
    });
    this.#unsubscribe = this.#bus.subscribe((m) => this.#deliver(m));
  }

  async send(
    peer: ChatPeer,
    data: { text: string; to?: string | undefined; key?: string | undefined },
  ): Promise<ChatMessage> {
    const { roomId, nickname } = this.#rooms.requireMembership(peer.id);
    const recv = this.#trace && traceClock();
    let message: NewChatMessage;
    let charged = false;
    try {
      if (!this.#limiter.take(peer.id)) {
        throw new TuttiError(
          'RATE_LIMITED',
          `too many messages: at most ${this.#settings.ratePerSecond} per second`,
        );
      }
      charged = true;
      message = await this.#accept(peer.id, roomId, nickname, data);
    } catch (err) {
      // An outbox resend of a message already stored gets its earlier answer, not a refusal
      // (its burst may hit the rate limit, its recipient may have left): the key is looked
      // up here only, not on every keyed send — the append's batch answers a stored key too.
      const earlier =
        data.key && (await this.#store.findByKey(roomId, peer.id, data.key).catch(() => undefined));
      if (earlier) {
        if (charged) this.#limiter.give(peer.id);
        return this.#present(earlier, peer.id);
      }
      throw err;
    }
    const queued = this.#trace && traceClock();
    const { stored, created } = await this.#storeAndPublish(message, data.key);
    // A resend the batch found stored (created: false): nothing was sent, nothing charged.
    if (!created) this.#limiter.give(peer.id);
    if (recv && queued && created) this.#trace!.answered(stored.id, data.key, recv, queued);
    return this.#present(stored, peer.id);
  }

  /** Validation, the recipient and the screen: the message to store, or why not. */
  async #accept(
    senderId: string,
    roomId: string,
    nickname: string,
    data: { text: string; to?: string | undefined },
  ): Promise<NewChatMessage> {
    const text = data.text.trim();
    const length = [...text].length;
    if (length < 1) throw new TuttiError('INVALID_REQUEST', 'message must not be empty');
    if (length > this.#settings.maxLength) {
      throw new TuttiError(
        'INVALID_REQUEST',
        `message is at most ${this.#settings.maxLength} characters`,
      );
    }
    let to: ChatMessage['to'];
    if (data.to !== undefined) {
      if (data.to === senderId) throw new TuttiError('INVALID_REQUEST', 'cannot message yourself');
      const member = this.#rooms.member(roomId, data.to);
      if (!member) throw new TuttiError('NOT_FOUND', 'the recipient is not in this room');
      to = { peerId: member.id, nickname: member.nickname };
    }
    await this.#screen?.(roomId, senderId, text);
    return {
      roomId,
      from: { peerId: senderId, nickname },
      ...(to && { to }),
      text,
      createdAt: Date.now(),
    };
  }

  /** Posts the server's announcement of an uploaded file into the room. */
  async postFile(
    uploader: { peerId: string; nickname: string; roomId: string },
    file: SharedFile,
  ): Promise<ChatMessage> {
    const message: NewChatMessage = {
      roomId: uploader.roomId,
      from: { peerId: uploader.peerId, nickname: uploader.nickname },
      text: file.name,
      createdAt: Date.now(),
      file,
    };
    const { stored } = await this.#storeAndPublish(message);
    return this.#present(stored, uploader.peerId);
  }

  async history(
    peer: ChatPeer,
    opts: { before?: string | undefined; limit?: number | undefined },
  ): Promise<HistoryPage> {
    const { roomId } = this.#rooms.requireMembership(peer.id);
    const page = await this.#store.page(roomId, peer.id, {
      ...(opts.before !== undefined && { before: opts.before }),
      limit: opts.limit ?? this.#settings.historyPageSize,
    });
    const presented = { ...page, messages: page.messages.map((m) => this.#present(m, peer.id)) };
    return fitHistoryPage(presented, this.#settings.historyMaxBytes ?? DEFAULT_HISTORY_BYTES);
  }

  /**
   * The latest page for a peer that has just joined. Call it in the same tick the peer
   * becomes a member: the read queues behind the room's pending appends, so everything
   * stored before it is in the page or (already delivered to the new member) live; messages
   * stored after it arrive as notifications only. What reached the peer live while the page
   * was read is left out of the page, so the two never overlap on this node.
   */
  async historyOnJoin(peer: ChatPeer): Promise<ChatMessage[]> {
    const { roomId } = this.#rooms.requireMembership(peer.id);
    const live = this.#live.watch(peer.id);
    try {
      const page = await this.#latestPage(roomId, peer.id);
      this.#marks.read(peer.id, page.messages);
      const messages = page.messages
        .filter((m) => !live.has(m.id))
        .map((m) => this.#present(m, peer.id));
      // The join answer carries the same byte budget as a history page (its newest messages).
      return fitHistoryPage(
        { ...page, messages },
        this.#settings.historyMaxBytes ?? DEFAULT_HISTORY_BYTES,
      ).messages;
    } finally {
      this.#live.unwatch(peer.id, live);
    }
  }

  /** What a member had of its room's chat here (it goes over to another node). */
  markOf(roomId: string, peerId: string): ChatMark {
    return this.#marks.mark(roomId, peerId);
  }

  /** It came over from another node (`mark`: what it had there): what it missed, once. */
  catchUp(peer: MemberChannel, mark: ChatMark): Promise<number> {
    // The latest page in the room's turn; older ones are stored already: read as they are.
    const page = (roomId: string, viewerId: string, before?: string) =>
      before === undefined
        ? this.#latestPage(roomId, viewerId)
        : this.#store.page(roomId, viewerId, { before, limit: CATCH_UP_PAGE });
    const roomOf = (peerId: string) => this.#rooms.requireMembership(peerId).roomId;
    const deps = { page, roomOf, present: this.#present, withdrawn: this.#withdrawn };
    return catchUp({ ...deps, marks: this.#marks, live: this.#live }, peer, mark);
  }

  /** The room has no member on this node any more. */
  roomEmptied(roomId: string): void {
    this.#marks.forgetRoom(roomId);
  }

  /** In the room's turn: after the appends queued before it. */
  #latestPage(roomId: string, viewerId: string): Promise<HistoryPage> {
    const limit = this.#settings.historyPageSize;
    return this.#queues.task(roomId, () => this.#store.page(roomId, viewerId, { limit }));
  }

  async findFile(roomId: string, fileId: string): Promise<SharedFile | undefined> {
    return (await this.#store.findFile(roomId, fileId))?.file;
  }

  /**
   * An upload is announced as a chat message: it costs one from the sender's chat budget
   * (taken when the upload starts, so a flood of uploads is refused before any byte).
   */
  chargeUpload(peerId: string): void {
    if (!this.#limiter.take(peerId)) {
      throw new TuttiError(
        'RATE_LIMITED',
        `too many messages and uploads: at most ${this.#settings.ratePerSecond} per second`,
      );
    }
  }

  /** The connection closed: its rate bucket can go (a leave alone keeps it). */
  connectionClosed(peerId: string): void {
    this.#limiter.forget(peerId);
    this.#live.forget(peerId);
    this.#marks.forgetMember(peerId);
  }

  deleteRoom(roomId: string): Promise<void> {
    return this.#store.deleteRoom(roomId);
  }

  close(): void {
    this.#unsubscribe();
  }

  /**
   * Appends in the room's queue (group commit: with other messages queued meanwhile) and
   * starts the publish before the room's next turn; resolves with the stored message once
   * the bus took it (see the class comment), `created: false` for a key stored before.
   */
  async #storeAndPublish(
    message: NewChatMessage,
    key?: string,
  ): Promise<{ stored: ChatMessage; created: boolean }> {
    // Rejects: nothing was published.
    const published = await this.#queues.append(message.roomId, { message, key });
    try {
      await published.done;
    } catch {
      this.#withdraw(published.stored);
      throw new TuttiError(
        'NOT_DELIVERED',
        'the message could not be delivered to the room and was not kept; send it again',
      );
    }
    return published;
  }

  /**
   * One turn of a room's appends: one write for the batch, then each publish in store order
   * (a key stored meanwhile, e.g. a racing resend, publishes nothing). An outage fails every
   * message of the batch; any other failure may be one message the database refuses, so
   * each is then written on its own and answers for itself, as it would unbatched.
   */
  async #appendBatch(items: AppendRequest[]): Promise<PromiseSettledResult<Appended>[]> {
    let results: PromiseSettledResult<AppendResult>[];
    const start = this.#trace && traceClock();
    try {
      results = await this.#store.appendBatch(items);
    } catch (err) {
      if (items.length === 1 || (err instanceof TuttiError && err.code === 'STORE_UNAVAILABLE')) {
        throw err;
      }
      results = [];
      for (const item of items) {
        results.push(
          await this.#store.appendBatch([item]).then(
            ([one]) => one!,
            (reason: unknown) => ({ status: 'rejected', reason }) as const,
          ),
        );
      }
    }
    const storedAt = this.#trace && traceClock();
    return results.map((r) => {
      if (r.status === 'rejected') return r;
      const { message: stored, created } = r.value;
      const done = created
        ? publishWithin(this.#bus, stored, this.#publishTimeoutMs)
        : Promise.resolve();
      done.catch(() => {}); // Handled by the sender's #storeAndPublish.
      if (this.#trace && created) {
        const { id } = stored;
        this.#trace.add({ k: 'batch', id, start: start!, stored: storedAt!, size: items.length });
        void done.then(
          () => this.#trace!.add({ k: 'pub', id, t: traceClock() }),
          () => {},
        );
      }
      return { status: 'fulfilled', value: { stored, created, done } };
    });
  }

  /** A message the bus did not take: out of the history, and never delivered by this node. */
  #withdraw(message: ChatMessage): void {
    this.#withdrawn.add(message.id);
    if (this.#withdrawn.size > WITHDRAWN_REMEMBERED) {
      this.#withdrawn.delete(this.#withdrawn.values().next().value!);
    }
    this.#store.delete(message.roomId, message.id).catch(() => {
      // The store is down too: the row stays; it is only ever read back as history.
    });
  }

  #deliver(message: ChatMessage): void {
    if (this.#withdrawn.has(message.id)) return;
    const t = this.#trace && traceClock();
    this.#fanOut(message);
    if (t) this.#trace!.delivery(message.id, t, [...this.#rooms.members(message.roomId)].length);
  }

  #fanOut(message: ChatMessage): void {
    const members = this.#rooms.members(message.roomId);
    const present = (m: ChatMessage, peerId: string) => this.#present(m, peerId);
    if (fanOut(message, members, this.#live, present)) this.#marks.delivered(message);
  }
}
