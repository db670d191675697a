import type { ChatMessage, SharedFile } from '@tutti/protocol';
import { TuttiError } from '@tutti/protocol';
import {
  prepareNotification,
  type MemberChannel,
  type Membership,
  type PreparedNotification,
} from '../rooms/ports.ts';

/** A connection; roomId/nickname as the protoo Peer still mirrors them from the rooms module. */
type Peer = MemberChannel & Partial<Membership>;
import type { ChatStore, HistoryPage } from '../store/chatStore.ts';
import type { ChatBus } from './ChatBus.ts';
import { RateLimiter } from './RateLimiter.ts';

/** What chat needs to know about rooms; the room registry is adapted to this. */
export interface ChatRooms {
  /** Members of the room whose sockets live on this node. */
  localMembers(roomId: string): Iterable<Peer>;
  /** A current member of the room (for private messages), else undefined. */
  member(roomId: string, peerId: string): { id: string; nickname: string } | undefined;
}

/**
 * Rewrites a message for one recipient (file links carry the recipient's access token).
 * Only file messages are personalised: a message without `file` reaches every recipient
 * as is (its notification is serialized once for the whole room).
 */
export type Presenter = (message: ChatMessage, viewerPeerId: string) => ChatMessage;

export interface ChatSettings {
  ratePerSecond: number;
  burst: number;
  maxLength: number;
  historyPageSize: number;
}

/**
 * Chat: validate → rate-limit → store → publish on the bus; the bus subscription delivers
 * to this node's members, applying private-message visibility per recipient.
 */
export class ChatService {
  readonly #store: ChatStore;
  readonly #bus: ChatBus;
  readonly #rooms: ChatRooms;
  readonly #settings: ChatSettings;
  readonly #limiter: RateLimiter;
  readonly #unsubscribe: () => void;
  #present: Presenter = (m) => m;

  constructor(opts: { store: ChatStore; bus: ChatBus; rooms: ChatRooms; settings: ChatSettings }) {
    this.#store = opts.store;
    this.#bus = opts.bus;
    this.#rooms = opts.rooms;
    this.#settings = opts.settings;
    this.#limiter = new RateLimiter(opts.settings);
    this.#unsubscribe = this.#bus.subscribe((m) => this.#deliver(m));
  }

  /** Set by the files feature so file links are personalised. */
  setPresenter(present: Presenter): void {
    this.#present = present;
  }

  async send(peer: Peer, data: { text: string; to?: string | undefined }): Promise<ChatMessage> {
    const { roomId, nickname } = joined(peer);
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
    peer: Peer,
    opts: { before?: string | undefined; limit?: number | undefined },
  ): HistoryPage {
    const { roomId } = joined(peer);
    const page = this.#store.page(roomId, peer.id, {
      ...(opts.before !== undefined && { before: opts.before }),
      limit: opts.limit ?? this.#settings.historyPageSize,
    });
    return { ...page, messages: page.messages.map((m) => this.#present(m, peer.id)) };
  }

  /**
   * The latest page for a peer that has just joined. Call it in the same tick the peer
   * becomes a member: earlier messages are here, later ones arrive as notifications.
   */
  historyOnJoin(peer: Peer): ChatMessage[] {
    return this.history(peer, {}).messages;
  }

  findFile(roomId: string, fileId: string): SharedFile | undefined {
    return this.#store.findFile(roomId, fileId)?.file;
  }

  /** The peer's socket closed: its rate bucket can go (a leave alone keeps it). */
  peerDisconnected(peerId: string): void {
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
      for (const peer of this.#rooms.localMembers(message.roomId)) {
        if (peer.id !== to.peerId && peer.id !== message.from.peerId) continue;
        void peer.notify('chat.message', { message: this.#present(message, peer.id) });
      }
      return;
    }
    if (message.file) {
      // File links carry each recipient's own access token.
      for (const peer of this.#rooms.localMembers(message.roomId)) {
        void peer.notify('chat.message', { message: this.#present(message, peer.id) });
      }
      return;
    }
    // The same bytes for everyone: serialize once (lazily: a room with no local member
    // on this node costs nothing).
    let prepared: PreparedNotification<'chat.message'> | undefined;
    for (const peer of this.#rooms.localMembers(message.roomId)) {
      prepared ??= prepareNotification('chat.message', { message });
      void peer.notifyPrepared(prepared);
    }
  }
}

function joined(peer: Peer): { roomId: string; nickname: string } {
  if (peer.roomId === undefined || peer.nickname === undefined) {
    throw new TuttiError('NOT_JOINED', 'join a room first');
  }
  return { roomId: peer.roomId, nickname: peer.nickname };
}
