import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ChatRooms, ChatService } from '../chat/ChatService.ts';
import { TuttiError, type ChatMessage, type SharedFile } from '@tutti/protocol';
import type { MemberChannel, Membership } from '../rooms/ports.ts';
import { sanitizeFilename } from './filename.ts';
import { fileKey, roomPrefix } from './keys.ts';
import { SniffStream } from './sniff.ts';
import type { ByteRange, Storage } from './Storage.ts';
import { TokenSigner } from './tokens.ts';

/** A connection; roomId as the protoo Peer still mirrors it from the rooms module. */
type Peer = MemberChannel & Partial<Membership>;

export interface FilesSettings {
  maxBytes: number;
  allowedTypes: readonly string[];
  uploadTokenTtlSeconds: number;
  /** HMAC secret shared by all nodes; random per process when absent. */
  secret?: string | undefined;
}

/** Where the HTTP routes live (http/files.ts); links in messages point here. */
export const FILES_PATH = '/api/files';

/**
 * File sharing: upload tokens over protoo, streamed uploads (sniffed, size-capped, stored,
 * then announced in chat), member-only downloads, per-recipient links, room deletion.
 */
export class FilesService {
  readonly #storage: Storage;
  readonly #chat: ChatService;
  readonly #rooms: ChatRooms;
  readonly #settings: FilesSettings;
  readonly #tokens: TokenSigner;

  constructor(opts: {
    storage: Storage;
    chat: ChatService;
    rooms: ChatRooms;
    settings: FilesSettings;
  }) {
    this.#storage = opts.storage;
    this.#chat = opts.chat;
    this.#rooms = opts.rooms;
    this.#settings = opts.settings;
    this.#tokens = new TokenSigner(opts.settings.secret);
    this.#chat.setPresenter((m, viewer) => this.present(m, viewer));
  }

  get maxBytes(): number {
    return this.#settings.maxBytes;
  }

  uploadToken(peer: Peer): { token: string; uploadUrl: string; expiresAt: number } {
    if (peer.roomId === undefined) throw new TuttiError('NOT_JOINED', 'join a room first');
    const expiresAt = Date.now() + this.#settings.uploadTokenTtlSeconds * 1000;
    const token = this.#tokens.sign({
      kind: 'u',
      peerId: peer.id,
      roomId: peer.roomId,
      exp: expiresAt,
    });
    return { token, uploadUrl: `${FILES_PATH}?token=${token}`, expiresAt };
  }

  /** The uploader behind a token, if it is genuine, unexpired and its peer still in the room. */
  uploader(token: string | undefined): { peerId: string; nickname: string; roomId: string } {
    const claims = token ? this.#tokens.verify(token, 'u') : undefined;
    if (!claims) throw new TuttiError('UNAUTHORIZED', 'upload token missing, invalid or expired');
    const member = this.#rooms.member(claims.roomId, claims.peerId);
    if (!member) throw new TuttiError('NOT_JOINED', 'only members of the room can upload');
    return { peerId: member.id, nickname: member.nickname, roomId: claims.roomId };
  }

  /**
   * Streams one file to storage and announces it. On any refusal (type, size, a stream
   * error) the partial object is deleted before the error is rethrown.
   */
  async upload(
    uploader: { peerId: string; nickname: string; roomId: string },
    rawName: string,
    body: Readable,
  ): Promise<ChatMessage> {
    const name = sanitizeFilename(rawName);
    const id = randomUUID();
    const key = fileKey(uploader.roomId, id);
    const sniff = new SniffStream({
      filename: name,
      allowedTypes: this.#settings.allowedTypes,
      maxBytes: this.#settings.maxBytes,
    });
    try {
      // Both settle before we go on: the driver must have cleaned up its partial object
      // before a refusal is answered.
      const results = await Promise.allSettled([
        pipeline(body, sniff),
        this.#storage.put(key, sniff),
      ]);
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      if (failed.length > 0) throw failed.find((e) => e instanceof TuttiError) ?? failed[0];
      if (!sniff.type) throw new TuttiError('UNSUPPORTED_TYPE', 'could not tell the file type');
      // The uploader may have left while the bytes were streaming.
      if (!this.#rooms.member(uploader.roomId, uploader.peerId)) {
        throw new TuttiError('NOT_JOINED', 'you left the room during the upload');
      }
      const base = `${FILES_PATH}/${encodeURIComponent(uploader.roomId)}/${id}/${encodeURIComponent(name)}`;
      const file: SharedFile = {
        id,
        name,
        size: sniff.bytes,
        type: sniff.type,
        url: base,
        ...(sniff.type.startsWith('image/') && { previewUrl: base }),
      };
      return await this.#chat.postFile(uploader, file);
    } catch (err) {
      sniff.destroy();
      await this.#storage.delete(key).catch(() => {});
      throw err;
    }
  }

  /** Personalises file links for one recipient: its access token goes in the query. */
  present(message: ChatMessage, viewerPeerId: string): ChatMessage {
    if (!message.file) return message;
    const t = this.#tokens.sign({ kind: 'a', peerId: viewerPeerId, roomId: message.roomId });
    const base = message.file.url.split('?')[0];
    const file: SharedFile = { ...message.file, url: `${base}?t=${t}` };
    if (message.file.previewUrl) file.previewUrl = `${base}?t=${t}&inline=1`;
    return { ...message, file };
  }

  /**
   * Checks a download: genuine access token for this room whose peer is still a member,
   * and a file that was shared there. Returns the file's metadata.
   */
  authorizeDownload(roomId: string, fileId: string, token: string | undefined): SharedFile {
    const claims = token ? this.#tokens.verify(token, 'a') : undefined;
    if (!claims || claims.roomId !== roomId || !this.#rooms.member(roomId, claims.peerId)) {
      throw new TuttiError('FORBIDDEN', 'only members of the room can download its files');
    }
    const file = this.#chat.findFile(roomId, fileId);
    if (!file) throw new TuttiError('NOT_FOUND', 'no such file in this room');
    return file;
  }

  open(roomId: string, fileId: string, range?: ByteRange): Promise<Readable> {
    return this.#storage.get(fileKey(roomId, fileId), range);
  }

  /** Room deleted: every stored file of the room goes. */
  async deleteRoom(roomId: string): Promise<number> {
    return this.#storage.deletePrefix(roomPrefix(roomId));
  }
}
