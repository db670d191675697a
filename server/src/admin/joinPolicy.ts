import type { FastifyRequest } from 'fastify';
import { TuttiError } from '@tutti/protocol';
import { nicknameSchema, safeParseInput } from '@tutti/protocol/schemas';
import type { JoinPolicy, MemberChannel } from '../rooms/ports.ts';
import type { ApiKeys } from './keys.ts';
import { verifyJoinToken } from './joinToken.ts';

export interface JoinPolicyOptions {
  keys: ApiKeys;
  maxTokenTtlSeconds: number;
  /** auth.guests: people who are neither signed in nor hold a token may join. */
  guests: boolean;
  /** Whether the connection's session cookie (read at the upgrade) is a live session now. */
  signedIn(channelId: string): Promise<boolean>;
  /** Told the token identity a connection joins with (undefined: none), before it is admitted. */
  identified?(channelId: string, identity: string | undefined): void;
}

/**
 * Who may join, before the room sees the request:
 * - a join token (docs/admin-api.md) is verified (TOKEN_*), must name this room
 *   (TOKEN_WRONG_ROOM), and gives the nickname (its `name`, else its identity) and the role;
 * - without one, a guest is refused with SIGN_IN_REQUIRED when auth.guests is off.
 * A token holder counts as vouched for by the backend that minted it, signed in or not.
 */
export function createJoinPolicy(opts: JoinPolicyOptions): JoinPolicy {
  return async (peer, { roomId, nickname, token }) => {
    if (token !== undefined) {
      const grant = await verifyJoinToken(token, {
        signingKey: (id) => opts.keys.signingKey(id),
        maxTtlSeconds: opts.maxTokenTtlSeconds,
      });
      if (grant.room !== roomId) {
        throw new TuttiError('TOKEN_WRONG_ROOM', 'this join token is for another room');
      }
      opts.identified?.(peer.id, grant.identity);
      // `name` was checked as a nickname; an identity is cleaned the same way.
      const shown = safeParseInput(nicknameSchema, grant.name ?? grant.identity.slice(0, 32));
      return { nickname: shown.success ? shown.data : nickname, role: grant.role };
    }
    if (!opts.guests && !(await opts.signedIn(peer.id))) {
      throw new TuttiError('SIGN_IN_REQUIRED', 'guests may not join: sign in first');
    }
    opts.identified?.(peer.id, undefined);
    return { nickname };
  };
}

/**
 * The session cookie each signaling connection came with (read at the WebSocket upgrade),
 * so a join can ask whether it is a live session at that moment; and the token identity it
 * joined with.
 */
export class ConnectionSessions {
  readonly #tokens = new Map<string, string>();
  readonly #identities = new Map<string, string>();
  readonly #readToken: (req: FastifyRequest) => string | undefined;

  constructor(readToken: (req: FastifyRequest) => string | undefined) {
    this.#readToken = readToken;
  }

  opened(channel: MemberChannel, req: FastifyRequest): void {
    const token = this.#readToken(req);
    if (token) this.#tokens.set(channel.id, token);
  }

  token(channelId: string): string | undefined {
    return this.#tokens.get(channelId);
  }

  /** The identity of the connection's last token join (webhooks report it). */
  identity(channelId: string): string | undefined {
    return this.#identities.get(channelId);
  }

  identified(channelId: string, identity: string | undefined): void {
    if (identity === undefined) this.#identities.delete(channelId);
    else this.#identities.set(channelId, identity);
  }

  closed(channelId: string): void {
    this.#tokens.delete(channelId);
    this.#identities.delete(channelId);
  }
}
