import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TuttiError, type ChatMessage, type SharedFile } from '@tutti/protocol';
import type { MemberChannel, RoomDirectory } from '../rooms/ports.ts';
import { sanitizeFilename } from './filename.ts';
import { fileKey, roomPrefix } from './keys.ts';
import { FILES_PATH, type FileLinks } from './links.ts';
import { SniffStream } from './sniff.ts';
import type { ByteRange, Storage } from './Storage.ts';

export interface FilesSettings {
  maxBytes: number;
  allowedTypes: readonly string[];
  uploadTokenTtlSeconds: number;
}

export interface Uploader {
  peerId: string;
  nickname: string;
  roomId: string;
}

/** Where uploads are announced and found again (the chat history, wired in app.ts). */
export interface FileAnnouncer {
  /** Posts the announcement of an uploaded file into the room; returns the uploader's copy. */
  postFile(uploader: Uploader, file: SharedFile): Promise<ChatMessage>;
  /** The file as announced in the room, else undefined. */
  findFile(roomId: string, fileId: string): Promise<SharedFile | undefined>;
}

/**
 * File sharing: upload tokens over protoo, streamed uploads (sniffed, size-capped, stored,
 * then announced in chat), member-only downloads, per-recipient links, room deletion.
 */
export class FilesService {
  readonly #storage: Storage;
  readonly #announcer: FileAnnouncer;
  readonly #rooms: RoomDirectory;
  readonly #settings: FilesSettings;
  readonly #links: FileLinks;

  constructor(opts: {
    storage: Storage;
    announcer: FileAnnouncer;
    rooms: RoomDirectory;
    links: FileLinks;
    settings: FilesSettings;
  }) {
    this.#storage = opts.storage;
    this.#announcer = opts.announcer;
    this.#rooms = opts.rooms;
    this.#links = opts.links;
    this.#settings = opts.settings;
  }

  get maxBytes(): number {
    return this.#settings.maxBytes;
  }

  uploadToken(peer: Pick<MemberChannel, 'id'>): {
    token: string;
    uploadUrl: string;
    expiresAt: number;
  } {
    const { roomId } = this.#rooms.requireMembership(peer.id);
    const expiresAt = Date.now() + this.#settings.uploadTokenTtlSeconds * 1000;
    const token = this.#links.tokens.sign({ kind: 'u', peerId: peer.id, roomId, exp: expiresAt });
    return { token, uploadUrl: `${FILES_PATH}?token=${token}`, expiresAt };
  }

  /** The uploader behind a token, if it is genuine, unexpired and its peer still in the room. */
  uploader(token: string | undefined): Uploader {
    const claims = token ? this.#links.tokens.verify(token, 'u') : undefined;
    if (!claims) throw new TuttiError('UNAUTHORIZED', 'upload token missing, invalid or expired');
    const member = this.#rooms.member(claims.roomId, claims.peerId);
    if (!member) throw new TuttiError('NOT_JOINED', 'only members of the room can upload');
    return { peerId: member.id, nickname: member.nickname, roomId: claims.roomId };
  }

  /**
   * Streams one file to storage and announces it. On any refusal (type, size, a stream
   * error) the partial object is deleted before the error is rethrown.
   */
  async upload(uploader: Uploader, rawName: string, body: Readable): Promise<ChatMessage> {
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
      return await this.#announcer.postFile(uploader, file);
    } catch (err) {
      sniff.destroy();
      await this.#storage.delete(key).catch(() => {});
      throw err;
    }
  }

  /**
   * Checks a download: genuine access token for this room whose peer is still a member,
   * and a file that was shared there. Returns the file's metadata.
   */
  async authorizeDownload(
    roomId: string,
    fileId: string,
    token: string | undefined,
  ): Promise<SharedFile> {
    const claims = token ? this.#links.tokens.verify(token, 'a') : undefined;
    if (!claims || claims.roomId !== roomId || !this.#rooms.member(roomId, claims.peerId)) {
      throw new TuttiError('FORBIDDEN', 'only members of the room can download its files');
    }
    const file = await this.#announcer.findFile(roomId, fileId);
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
