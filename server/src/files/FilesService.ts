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
import { UploadQuota, type QuotaSettings, type UploadSlot } from './UploadQuota.ts';

export interface FilesSettings extends QuotaSettings {
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
  /**
   * An upload is a chat message: it costs one from the sender's chat budget. Throws
   * RATE_LIMITED when that budget is spent.
   */
  chargeUpload(peerId: string): void;
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
  readonly #quota: UploadQuota;

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
    this.#quota = new UploadQuota(opts.settings, async (roomId) => {
      const stored = await this.#storage.list(roomPrefix(roomId));
      return stored.reduce((sum, o) => sum + o.size, 0);
    });
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
   * Lets an upload start, before its body is read: an upload slot (at most a few per
   * member at once), one message of the chat budget, and room in the byte quotas for at
   * least `minBytes`. The slot goes to upload(); release it if upload() is never called.
   */
  async admit(uploader: Uploader, minBytes: number): Promise<UploadSlot> {
    const slot = this.#quota.reserve(uploader.peerId, uploader.roomId);
    try {
      this.#announcer.chargeUpload(uploader.peerId);
      await slot.check(minBytes);
      return slot;
    } catch (err) {
      slot.release();
      throw err;
    }
  }

  /**
   * Streams one file to storage and announces it. On any refusal (type, size, quota, a
   * stream error) the partial object is deleted before the error is rethrown.
   */
  async upload(
    uploader: Uploader,
    slot: UploadSlot,
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
    let stored = false;
    try {
      // Both settle before we go on: the driver must have cleaned up its partial object
      // before a refusal is answered.
      const results = await Promise.allSettled([
        pipeline(body, slot.meter(), sniff),
        this.#storage.put(key, sniff).then(() => void (stored = true)),
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
      const message = await this.#announcer.postFile(uploader, file);
      slot.commit();
      return message;
    } catch (err) {
      sniff.destroy();
      // A failed put leaves nothing (the driver's contract): only a stored file is deleted.
      if (stored) await this.#storage.delete(key).catch(() => {});
      throw err;
    } finally {
      slot.release();
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
    this.#quota.forgetRoom(roomId);
    return this.#storage.deletePrefix(roomPrefix(roomId));
  }

  /** The connection closed: its quota counters go. */
  connectionClosed(peerId: string): void {
    this.#quota.forgetPeer(peerId);
  }
}
