import type { ChatMessage, SharedFile } from '@tutti/protocol';
import { TuttiError } from '@tutti/protocol';
import { KeyedRateLimiter } from '../kernel/rateLimit.ts';
import {
  prepareNotification,
  type MemberChannel,
  type PreparedNotification,
  type RoomDirectory,
} from '../rooms/ports.ts';
import type { ChatStore, HistoryPage } from '../store/chatStore.ts';
import type { ChatBus } from './ChatBus.ts';
import { fitHistoryPage } from './historyBudget.ts';

/**
 * Rewrites a message for one recipient (file links carry the recipient's access token).
 * Only file messages are personalised: a message without `file` reaches every recipient
 * as is (its notification is serialized once for the whole room).
 */
export type Presenter = (message: ChatMessage, viewerPeerId: string) => ChatMessage;

/**
 * Sees each accepted message before it is stored (the games module: a guess may score).
 * Throwing a TuttiError refuses it: nothing is stored or relayed, the sender gets the error.
 */
export type ChatScreen = (roomId: string, senderId: string, text: string) => void;

/** A connection as chat sees it: only its id (membership is asked of the rooms). */
export type ChatPeer = Pick<MemberChannel, 'id'>;

export interface ChatSettings {
  ratePerSecond: number;
  burst: number;
  maxLength: number;
  historyPageSize: number;
  /** A history page is trimmed to this many bytes (its newest messages; hasMore: true). */
  historyMaxBytes?: number;
}

const DEFAULT_HISTORY_BYTES = 256 * 1024;

/**
 * Chat: validate → rate-limit → store → publish on the bus; the bus subscription delivers
 * to this node's members, applying private-message visibility per recipient.
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

  constructor(opts: {
    store: ChatStore;
    bus: ChatBus;
    rooms: RoomDirectory;
    settings: ChatSettings;
    /** Personalises file messages (the files concern's links); default: as stored. */
    present?: Presenter | undefined;
    /** The games module's hook on chat text (guesses; the drawer's word is refused). */
    screen?: ChatScreen | undefined;
  }) {
    this.#store = opts.store;
    this.#bus = opts.bus;
    this.#rooms = opts.rooms;
    this.#settings = opts.settings;
    this.#present = opts.present ?? ((m) => m);
    this.#screen = opts.screen;
    this.#limiter = new KeyedRateLimiter(opts.settings);
    this.#unsubscribe = this.#bus.subscribe((m) => this.#deliver(m));
  }

  async send(
    peer: ChatPeer,
    data: { text: string; to?: string | undefined },
  ): Promise<ChatMessage> {
    const { roomId, nickname } = this.#rooms.requireMembership(peer.id);
    if (!this.#limiter.take(peer.id)) {
      throw new TuttiError(
        'RATE_LIMITED',
        `too many messages: at most ${this.#settings.ratePerSecond} per second`,
      );
    }
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
      if (data.to === peer.id) throw new TuttiError('INVALID_REQUEST', 'cannot message yourself');
      const member = this.#rooms.member(roomId, data.to);
      if (!member) throw new TuttiError('NOT_FOUND', 'the recipient is not in this room');
      to = { peerId: member.id, nickname: member.nickname };
    }
    this.#screen?.(roomId, peer.id, text);
    const message = this.#store.append({
      roomId,
      from: { peerId: peer.id, nickname },
      ...(to && { to }),
      text,
      createdAt: Date.now(),
    });
    await this.#bus.publish(message);
    return this.#present(message, peer.id);
  }

  /** Posts the server's announcement of an uploaded file into the room. */
  async postFile(
    uploader: { peerId: string; nickname: string; roomId: string },
    file: SharedFile,
  ): Promise<ChatMessage> {
    const message = this.#store.append({
      roomId: uploader.roomId,
      from: { peerId: uploader.peerId, nickname: uploader.nickname },
      text: file.name,
      createdAt: Date.now(),
      file,
    });
    await this.#bus.publish(message);
    return this.#present(message, uploader.peerId);
  }

  history(
    peer: ChatPeer,
    opts: { before?: string | undefined; limit?: number | undefined },
  ): HistoryPage {
    const { roomId } = this.#rooms.requireMembership(peer.id);
    const page = this.#store.page(roomId, peer.id, {
      ...(opts.before !== undefined && { before: opts.before }),
      limit: opts.limit ?? this.#settings.historyPageSize,
    });
    const presented = { ...page, messages: page.messages.map((m) => this.#present(m, peer.id)) };
    return fitHistoryPage(presented, this.#settings.historyMaxBytes ?? DEFAULT_HISTORY_BYTES);
  }

  /**
   * The latest page for a peer that has just joined. Call it in the same tick the peer
   * becomes a member: earlier messages are here, later ones arrive as notifications.
   */
  historyOnJoin(peer: ChatPeer): ChatMessage[] {
    return this.history(peer, {}).messages;
  }

  findFile(roomId: string, fileId: string): SharedFile | undefined {
    return this.#store.findFile(roomId, fileId)?.file;
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
  }

  deleteRoom(roomId: string): void {
    this.#store.deleteRoom(roomId);
  }

  close(): void {
    this.#unsubscribe();
  }

  #deliver(message: ChatMessage): void {
    const to = message.to;
    if (to) {
      // Private: the sender and the recipient only.
      for (const peer of this.#rooms.members(message.roomId)) {
        if (peer.id !== to.peerId && peer.id !== message.from.peerId) continue;
        void peer.notify('chat.message', { message: this.#present(message, peer.id) });
      }
      return;
    }
    if (message.file) {
      // File links carry each recipient's own access token.
      for (const peer of this.#rooms.members(message.roomId)) {
        void peer.notify('chat.message', { message: this.#present(message, peer.id) });
      }
      return;
    }
    // The same bytes for everyone: serialize once (lazily: a room with no local member
    // on this node costs nothing).
    let prepared: PreparedNotification<'chat.message'> | undefined;
    for (const peer of this.#rooms.members(message.roomId)) {
      prepared ??= prepareNotification('chat.message', { message });
      void peer.notifyPrepared(prepared);
    }
  }
}
