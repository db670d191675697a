import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '@tutti/config';
import type { Concern } from '../module/concern.ts';
import type { ModerationActions } from '../moderation/actions.ts';
import type { JoinPolicy, MemberChannel } from '../rooms/ports.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { AuthStore } from '../store/authStore.ts';
import { adminHttpPlugin } from './http.ts';
import { ConnectionSessions, createJoinPolicy } from './joinPolicy.ts';
import { ApiKeys } from './keys.ts';
import { AdminRooms } from './service.ts';

export interface AdminModuleOptions {
  config: Config;
  rooms: RoomRegistry;
  /** Where API keys are kept (the auth store: SQLite or PostgreSQL). */
  store: AuthStore;
  /** The session cookie of a request (auth/cookies.ts)… */
  sessionToken(req: FastifyRequest): string | undefined;
  /** …and whether it is a live session (auth's AccountService). */
  sessionLive(token: string): Promise<boolean>;
  /** The moderator actions the admin API's mute and remove go through (created later). */
  moderation: () => ModerationActions;
}

/**
 * API keys, join tokens, the guest rule and the admin API. app.ts hands `joinPolicy` to the
 * room handlers and `connectionOpened` to the transport; the rest is a plain Concern.
 */
export function createAdminModule(opts: AdminModuleOptions): Concern & {
  keys: ApiKeys;
  joinPolicy: JoinPolicy;
  connectionOpened(channel: MemberChannel, req: FastifyRequest): void;
  /** The token identity a member joined with (webhooks), if it joined with one. */
  identityOf(peerId: string): string | undefined;
  /** A member resumed here from another node with the identity it joined with there. */
  identified(peerId: string, identity: string | undefined): void;
} {
  const keys = new ApiKeys(opts.store);
  const sessions = new ConnectionSessions(opts.sessionToken);
  const joinPolicy = createJoinPolicy({
    keys,
    maxTokenTtlSeconds: opts.config.admin.maxTokenTtlSeconds,
    guests: opts.config.auth.guests,
    signedIn: async (channelId) => {
      const token = sessions.token(channelId);
      return token !== undefined && (await opts.sessionLive(token));
    },
    identified: (channelId, identity) => sessions.identified(channelId, identity),
  });
  const adminRooms = new AdminRooms(opts.rooms, opts.moderation);
  return {
    keys,
    joinPolicy,
    connectionOpened: (channel, req) => sessions.opened(channel, req),
    identityOf: (peerId) => sessions.identity(peerId),
    identified: (peerId, identity) => sessions.identified(peerId, identity),
    rooms: { connectionClosed: (member) => sessions.closed(member.id) },
    async http(app: FastifyInstance) {
      await app.register(adminHttpPlugin, {
        keys,
        rooms: adminRooms,
        allowIps: opts.config.admin.allowIps,
      });
    },
  };
}
