import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export interface IngestToken {
  id: string;
  roomId: string;
  /** Shown to the room as the ingest's nickname. */
  label: string;
  createdAt: number;
}

/** What a token lets its holder do: publish (WHIP) or watch (WHEP). */
export type TokenUse = 'ingest' | 'viewer';

const hash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/**
 * WHIP ingest tokens of this node, created by room owners, each with its WHEP viewer token
 * (one grant, revoked together). Only a SHA-256 of each token is kept (they are 32 random
 * bytes, like the owner secrets). In memory: a restart or another node does not know them
 * (the owner creates a new one).
 */
export class IngestTokens {
  readonly #byId = new Map<string, IngestToken & { hash: Buffer; viewerHash: Buffer }>();
  readonly #perRoomLimit: number;

  constructor(perRoomLimit = 20) {
    this.#perRoomLimit = perRoomLimit;
  }

  /**
   * A new ingest token and its viewer token for the room; the secrets are returned once.
   * Undefined when the room has too many.
   */
  create(
    roomId: string,
    label: string,
  ): { token: string; viewerToken: string; info: IngestToken } | undefined {
    if (this.list(roomId).length >= this.#perRoomLimit) return undefined;
    const token = randomBytes(32).toString('base64url');
    const viewerToken = randomBytes(32).toString('base64url');
    const info: IngestToken = { id: randomUUID(), roomId, label, createdAt: Date.now() };
    this.#byId.set(info.id, { ...info, hash: hash(token), viewerHash: hash(viewerToken) });
    return { token, viewerToken, info };
  }

  /** The grant if `token` is one of `roomId`'s for that use (constant-time comparison). */
  verify(roomId: string, token: string, use: TokenUse = 'ingest'): IngestToken | undefined {
    const h = hash(token);
    for (const t of this.#byId.values()) {
      if (t.roomId === roomId && timingSafeEqual(use === 'ingest' ? t.hash : t.viewerHash, h)) {
        return { id: t.id, roomId, label: t.label, createdAt: t.createdAt };
      }
    }
    return undefined;
  }

  list(roomId: string): IngestToken[] {
    return [...this.#byId.values()]
      .filter((t) => t.roomId === roomId)
      .map(({ id, label, createdAt }) => ({ id, roomId, label, createdAt }));
  }

  /** True when it existed (and belonged to the room). */
  revoke(roomId: string, id: string): boolean {
    const t = this.#byId.get(id);
    if (!t || t.roomId !== roomId) return false;
    return this.#byId.delete(id);
  }

  dropRoom(roomId: string): void {
    for (const [id, t] of this.#byId) if (t.roomId === roomId) this.#byId.delete(id);
  }
}
