import { Transform, type TransformCallback } from 'node:stream';
import { TuttiError } from '@tutti/protocol';

export interface QuotaSettings {
  /** Bytes one member (connection) may have stored, in flight included. */
  maxBytesPerPeer: number;
  /** Bytes a room may have stored, in flight included. */
  maxBytesPerRoom: number;
  /** Uploads one member may have streaming at once. */
  maxConcurrentUploadsPerPeer: number;
}

interface Usage {
  stored: number;
  inflight: number;
}

interface PeerUsage extends Usage {
  roomId: string;
  uploads: number;
}

const mb = (bytes: number): string => `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;

/**
 * Byte quotas per member and per room, and a cap on concurrent uploads per member. Bytes
 * are counted as they stream (so parallel uploads cannot overshoot together) and kept once
 * stored. A room's stored bytes are read from storage the first time it uploads here (a
 * room lives on one node), then kept up to date; a member's are those it uploaded.
 */
export class UploadQuota {
  readonly #settings: QuotaSettings;
  readonly #storedInRoom: (roomId: string) => Promise<number>;
  readonly #peers = new Map<string, PeerUsage>();
  readonly #rooms = new Map<string, Promise<Usage>>();

  constructor(settings: QuotaSettings, storedInRoom: (roomId: string) => Promise<number>) {
    this.#settings = settings;
    this.#storedInRoom = storedInRoom;
  }

  /**
   * Takes an upload slot for the member (RATE_LIMITED past the concurrency cap). Release
   * it with `slot.release()` whatever happens; `commit()` keeps the bytes as stored.
   */
  reserve(peerId: string, roomId: string): UploadSlot {
    let peer = this.#peers.get(peerId);
    if (!peer || peer.roomId !== roomId) {
      peer = { roomId, stored: 0, inflight: 0, uploads: 0 };
      this.#peers.set(peerId, peer);
    }
    const cap = this.#settings.maxConcurrentUploadsPerPeer;
    if (peer.uploads >= cap) {
      throw new TuttiError(
        'RATE_LIMITED',
        `at most ${cap} uploads at once: wait for one to finish`,
      );
    }
    peer.uploads += 1;
    return new UploadSlot(this.#settings, peer, this.#room(roomId));
  }

  /** The connection closed: its counters go (its files stay, counted in the room). */
  forgetPeer(peerId: string): void {
    this.#peers.delete(peerId);
  }

  /** The room and its files are gone. */
  forgetRoom(roomId: string): void {
    this.#rooms.delete(roomId);
    for (const [id, peer] of this.#peers) if (peer.roomId === roomId) this.#peers.delete(id);
  }

  #room(roomId: string): Promise<Usage> {
    let usage = this.#rooms.get(roomId);
    if (!usage) {
      usage = this.#storedInRoom(roomId).then((stored) => ({ stored, inflight: 0 }));
      // A failed read (storage down) is retried by the next upload.
      usage.catch(() => this.#rooms.delete(roomId));
      this.#rooms.set(roomId, usage);
    }
    return usage;
  }
}

/** One upload's share of the quotas. */
export class UploadSlot {
  readonly #settings: QuotaSettings;
  readonly #peer: PeerUsage;
  readonly #roomUsage: Promise<Usage>;
  #room: Usage | undefined;
  #counted = 0;
  #settled = false;

  constructor(settings: QuotaSettings, peer: PeerUsage, room: Promise<Usage>) {
    this.#settings = settings;
    this.#peer = peer;
    this.#roomUsage = room;
  }

  /** Refuses at once when the quotas cannot take `minBytes` more (the declared size). */
  async check(minBytes: number): Promise<void> {
    this.#room = await this.#roomUsage;
    this.#refuseBeyond(minBytes);
  }

  /** Counts what flows through; fails the stream with PAYLOAD_TOO_LARGE past a quota. */
  meter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, done: TransformCallback) => {
        try {
          this.#refuseBeyond(chunk.length);
        } catch (err) {
          done(err as Error);
          return;
        }
        this.#add(chunk.length);
        done(null, chunk);
      },
    });
  }

  /** The file is stored: its bytes stay counted. */
  commit(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#peer.uploads -= 1;
    this.#peer.inflight -= this.#counted;
    this.#peer.stored += this.#counted;
    if (this.#room) {
      this.#room.inflight -= this.#counted;
      this.#room.stored += this.#counted;
    }
  }

  /** Refused or failed: nothing was stored, nothing stays counted. No-op after commit. */
  release(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#peer.uploads -= 1;
    this.#peer.inflight -= this.#counted;
    if (this.#room) this.#room.inflight -= this.#counted;
  }

  #add(bytes: number): void {
    this.#counted += bytes;
    this.#peer.inflight += bytes;
    if (this.#room) this.#room.inflight += bytes;
  }

  #refuseBeyond(more: number): void {
    const { maxBytesPerPeer, maxBytesPerRoom } = this.#settings;
    const peer = this.#peer.stored + this.#peer.inflight;
    if (peer + more > maxBytesPerPeer) {
      throw new TuttiError(
        'PAYLOAD_TOO_LARGE',
        `upload quota reached: you may share at most ${mb(maxBytesPerPeer)} (${mb(this.#peer.stored)} shared)`,
      );
    }
    const room = this.#room ? this.#room.stored + this.#room.inflight : 0;
    if (this.#room && room + more > maxBytesPerRoom) {
      throw new TuttiError(
        'PAYLOAD_TOO_LARGE',
        `room storage full: a room holds at most ${mb(maxBytesPerRoom)} of files (${mb(this.#room.stored)} stored)`,
      );
    }
  }
}
