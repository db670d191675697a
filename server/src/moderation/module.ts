import type { Concern } from '../module/concern.ts';
import type { Logger } from '../kernel/log.ts';
import type { RoomStore } from '../store/RoomStore.ts';
import type { HandlerTable, RequestContext } from '../rooms/ports.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { ModerationActions } from './actions.ts';
import type { Admission, MediaGuard } from '../rooms/admission.ts';
import { Identities } from './identities.ts';
import { Moderation } from './Moderation.ts';
import type { RemoteModeration, TargetedAction } from './remote.ts';

export interface ModerationModuleOptions {
  rooms: RoomRegistry;
  store: RoomStore;
  log: Logger;
  now?: () => number;
  /** Members on other nodes of a cluster (federation/moderationRelay.ts); lazily, it is wired later. */
  remote?: () => RemoteModeration | undefined;
}

/**
 * Moderation and the waiting room (issue 11): the `moderation.*` requests, the room door
 * (`admission`, handed to the room handlers), the held-mic guard, and who each connection
 * is (`identities`, filled by the transport from the session cookie).
 */
export function createModerationModule(opts: ModerationModuleOptions): Concern & {
  admission: Admission;
  guard: MediaGuard;
  identities: Identities;
  actions: ModerationActions;
  moderation: Moderation;
  carry: {
    out(room: Room, memberId: string): { micHeld: boolean };
    in(room: Room, memberId: string, state: { micHeld: boolean }): void;
  };
} {
  const identities = new Identities(opts.log);
  const moderation = new Moderation({ ...opts, identities });
  const actions = new ModerationActions(moderation);
  const { rooms } = opts;
  /** The room of the actor (NOT_JOINED outside one). */
  const roomOf = (ctx: RequestContext) => rooms.requireMembership(ctx.peer.id).roomId;
  const me = (ctx: RequestContext) => ctx.peer.id;
  const empty = {} as Record<string, never>;
  /** The action runs here, or on the node of a target who sits elsewhere in the cluster. */
  const onTarget = async (
    ctx: RequestContext,
    targetId: string,
    action: TargetedAction,
  ): Promise<Record<string, never>> => {
    const roomId = roomOf(ctx);
    const remote = opts.remote?.();
    if (!rooms.get(roomId)?.hasMember(targetId) && remote?.hosts(roomId, targetId)) {
      await remote.forward(roomId, me(ctx), targetId, action);
    } else {
      await actions.apply(roomId, me(ctx), targetId, action);
    }
    return empty;
  };

  const handlers: HandlerTable = {
    'moderation.setRole': (ctx, d) => onTarget(ctx, d.peerId, { kind: 'setRole', role: d.role }),
    'moderation.mute': (ctx, d) => onTarget(ctx, d.peerId, { kind: 'mute' }),
    'moderation.allowUnmute': (ctx, d) => onTarget(ctx, d.peerId, { kind: 'allowUnmute' }),
    'moderation.stopVideo': (ctx, d) =>
      onTarget(ctx, d.peerId, { kind: 'stopVideo', source: d.source }),
    'moderation.remove': (ctx, d) =>
      onTarget(ctx, d.peerId, { kind: 'remove', ban: d.ban ?? false }),
    'moderation.settings': async (ctx, d) => ({
      settings: await actions.settings(roomOf(ctx), me(ctx), d),
    }),
    'moderation.end': async (ctx) => {
      await actions.end(roomOf(ctx), me(ctx));
      return empty;
    },
    'moderation.admit': async (ctx, d) => {
      await actions.decide(roomOf(ctx), me(ctx), d.waitingId, 'admit');
      return empty;
    },
    'moderation.deny': async (ctx, d) => {
      await actions.decide(roomOf(ctx), me(ctx), d.waitingId, 'deny');
      return empty;
    },
  };

  return {
    handlers,
    rooms: {
      // Same tick as the admission: the member's role is set; the list is read from the cluster.
      async joinAnswer(roomId, member) {
        const room = rooms.get(roomId);
        const role = room?.member(member.id)?.info.role;
        if (!room || !role) return {};
        moderation.joined(member, roomId);
        return { moderation: await moderation.snapshot(room, role) };
      },
      memberLeft: (roomId, memberId) => moderation.memberLeft(roomId, memberId),
      roomDeleted: (roomId) => moderation.roomDeleted(roomId),
      connectionClosed: (member) => moderation.connectionClosed(member),
    },
    admission: moderation,
    guard: moderation,
    identities,
    /** A member resuming on another node takes its held mic along (federation/handover.ts). */
    carry: {
      out: (room, memberId) => ({ micHeld: moderation.state(room).releaseMic(memberId) }),
      in: (room, memberId, state) => {
        if (state.micHeld) moderation.state(room).holdMic(memberId);
      },
    },
    actions,
    moderation,
  };
}
