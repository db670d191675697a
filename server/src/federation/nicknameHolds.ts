import { TuttiError } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import { nicknameCandidates } from './nicknameCandidates.ts';
import type { NicknameClaims } from './nicknames.ts';
import { bounded, clusterCall } from './timeout.ts';

/** This node's side of the cluster-wide nickname claims: who asks, and what happens on failure. */
export class NicknameHolds {
  readonly #claims: NicknameClaims;
  readonly #nodeId: string;
  readonly #log: Logger;
  readonly #timeoutMs: number;

  constructor(claims: NicknameClaims, nodeId: string, log: Logger, timeoutMs: number) {
    this.#claims = claims;
    this.#nodeId = nodeId;
    this.#log = log;
    this.#timeoutMs = timeoutMs;
  }

  /** The wish or a variant of it, held cluster-wide (two rounds of candidates, then refused). */
  async claim(roomId: string, memberId: string, wish: string, taken: string[]): Promise<string> {
    for (let round = 0; round < 2; round++) {
      const candidates = nicknameCandidates(wish, taken, round === 0 ? 8 : 16);
      const name = await clusterCall(
        this.#claims.claim(roomId, this.#nodeId, memberId, candidates),
        this.#timeoutMs,
        this.#log,
        'the cluster could not check your nickname',
      );
      if (name !== null) return name;
      taken.push(...candidates);
    }
    throw new TuttiError('MEDIA_UNAVAILABLE', 'no free nickname found; try another');
  }

  /** The member's name, held by `fromNode`, is this node's now (it resumed here). */
  async move(roomId: string, memberId: string, nickname: string, fromNode: string): Promise<void> {
    const moved = await clusterCall(
      this.#claims.move(roomId, fromNode, this.#nodeId, memberId, nickname),
      this.#timeoutMs,
      this.#log,
      'the cluster could not move your nickname',
    );
    if (!moved)
      this.#log.warn({ roomId, memberId }, 'presence: a moved nickname is held by another');
  }

  /** Gives a name back (held by this node, or by `nodeId`). */
  release(roomId: string, memberId: string, nickname: string, nodeId = this.#nodeId): void {
    bounded(this.#claims.release(roomId, nodeId, memberId, nickname), this.#timeoutMs)
      // Left held, the name stays taken in that room until this node restarts or leaves.
      .catch((err: unknown) => this.#log.warn({ err, roomId }, 'presence: nickname not released'));
  }
}
