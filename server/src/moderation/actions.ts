import {
  TuttiError,
  type ModerationSettings,
  type PeerInfo,
  type NotificationMap,
  type NotificationMethod,
} from '@tutti/protocol';
import type { Member, Room } from '../rooms/Room.ts';
import { shared, type Moderation } from './Moderation.ts';
import type { TargetedAction } from './remote.ts';
import { authorize, forbidden, type ModerationAction } from './roles.ts';

/**
 * Who acts: a member of this node (its id), or one on another node as that node's presence
 * announced it (federation/moderationRelay.ts: never what the request says of itself).
 */
export type Actor = string | { id: string; info: PeerInfo; admin?: true };

/** The admin API (an API key): acts on anyone, the owner included, and is named "admin". */
export const ADMIN_ACTOR = {
  id: 'admin',
  admin: true,
  info: {
    id: 'admin',
    nickname: 'admin',
    role: 'owner',
    mic: 'none',
    camera: 'none',
    screen: false,
    joinedAt: 0,
  },
} as const satisfies Actor;

/**
 * The moderator actions, each a function of (roomId, actorId, target…) authorized here on
 * the server from the actor's role in the room: a participant gets FORBIDDEN. They reach
 * members only through the room, so a cluster RPC can run one on the node of the room's
 * members (docs/moderation.md).
 */
export class ModerationActions {
  readonly #m: Moderation;

  constructor(moderation: Moderation) {
    this.#m = moderation;
  }

  async setRole(
    roomId: string,
    actorId: Actor,
    targetId: string,
    role: 'moderator' | 'participant',
  ): Promise<void> {
    const { room, target } = this.#on(
      roomId,
      actorId,
      targetId,
      role === 'moderator' ? 'promote' : 'demote',
    );
    const account = (await this.#m.identities.of(targetId))?.accountId ?? null;
    if (!room.hasMember(targetId)) throw gone();
    room.setRole(targetId, role);
    if (account) {
      const on = role === 'moderator';
      await shared(this.#m.shared.rememberModerator(roomId, account, on));
    }
    // A new moderator sees who is waiting (on every node).
    if (role === 'moderator') {
      tell(target, 'moderation.waiting', { waiting: await this.#m.waitingList(roomId) });
    }
  }

  /** Pauses the target's mic on the server; with "moderators unmute" they cannot resume it. */
  async mute(roomId: string, actorId: Actor, targetId: string): Promise<string[]> {
    const { room, actor, target } = this.#on(roomId, actorId, targetId, 'mute');
    const state = this.#m.state(room);
    state.holdMic(targetId);
    const paused: string[] = [];
    for (const p of [...target.media.producers()]) {
      if (p.appData.source !== 'mic' || p.paused || p.closed) continue;
      await target.media.pauseProducer(p.id);
      paused.push(p.id);
    }
    tell(target, 'moderation.muted', {
      by: actor.info.nickname,
      canUnmute: !state.settings.moderatorsUnmute,
    });
    return paused;
  }

  allowUnmute(roomId: string, actorId: Actor, targetId: string): void {
    const { room, actor, target } = this.#on(roomId, actorId, targetId, 'allowUnmute');
    this.#m.state(room).releaseMic(targetId);
    tell(target, 'moderation.unmuteAllowed', { by: actor.info.nickname });
  }

  /** Closes the target's camera, or screen share with its audio. */
  stopVideo(roomId: string, actorId: Actor, targetId: string, source: 'camera' | 'screen'): void {
    const { actor, target } = this.#on(roomId, actorId, targetId, 'stopVideo');
    const sources: readonly string[] =
      source === 'camera' ? ['camera'] : ['screen', 'screen-audio'];
    for (const p of [...target.media.producers()]) {
      if (sources.includes(p.appData.source)) target.media.closeProducer(p.id);
    }
    tell(target, 'moderation.videoStopped', { by: actor.info.nickname, source });
  }

  /** Takes the target out of the room (their socket stays, back in the lobby); `ban` bars them. */
  async remove(roomId: string, actorId: Actor, targetId: string, ban: boolean): Promise<void> {
    const { room, actor, target } = this.#on(roomId, actorId, targetId, 'remove');
    if (ban) {
      const accountId = (await this.#m.identities.of(targetId))?.accountId ?? null;
      await shared(this.#m.shared.bar(roomId, { accountId, address: target.channel.ip }));
    }
    if (!room.hasMember(targetId)) return;
    // Told first, on the same socket, so the client knows why it leaves the room.
    tell(target, 'moderation.removed', { by: actor.info.nickname, banned: ban });
    room.remove(targetId);
    this.#m.log.info({ roomId, peerId: targetId, by: actor.id, ban }, 'member removed');
  }

  /**
   * Changes settings: the stored ones are written first (STORE_UNAVAILABLE changes nothing),
   * then the shared state, which every node reads at its door; the other nodes are told.
   */
  async settings(
    roomId: string,
    actorId: string,
    patch: Partial<ModerationSettings>,
  ): Promise<ModerationSettings> {
    const { room } = this.#on(roomId, actorId, undefined, 'settings');
    const was = await this.#m.currentSettings(room);
    const changes = definedOnly(patch);
    const next = { ...was, ...changes };
    const { waitingRoom, moderatorsUnmute, signedInOnly } = next;
    // Asked for a stored one: written, whatever this node's copy of the record says (another
    // node may have changed it since).
    if (STORED.some((k) => k in changes)) {
      await this.#m.store.setSettings(roomId, { waitingRoom, moderatorsUnmute, signedInOnly });
      room.replaceRecord({
        ...room.record,
        settings: { waitingRoom, moderatorsUnmute, signedInOnly },
      });
    }
    const now = await shared(this.#m.shared.changeSettings(roomId, was, changes));
    this.#m.remote?.announce(roomId, 'settings');
    this.#m.applySettings(room, now);
    return now;
  }

  /** Everyone, on every node, is taken out (told first); whoever waits is sent away. The room stays. */
  async end(roomId: string, actorId: string): Promise<void> {
    const { room, actor } = this.#on(roomId, actorId, undefined, 'end');
    // The other nodes first: they know the actor as a member only while it still is one.
    await this.#m.remote?.end(roomId, actor.id);
    this.endHere(roomId, actor);
    const left = (await this.#m.waitingEntries(roomId)).map((e) => e.id);
    await this.#m.offTheList(room, left); // Waiting on a node that did not answer: off too.
    this.#m.log.info({ roomId, by: actorId }, 'meeting ended');
  }

  /** The meeting ends on this node (asked here, or by the actor's node: federation). */
  endHere(roomId: string, actor: Actor): void {
    const room = this.#m.rooms.get(roomId);
    if (!room) return;
    const info = typeof actor === 'string' ? room.member(actor)?.info : actor.info;
    if (!info) throw new TuttiError('NOT_JOINED', 'join the room first');
    authorize('end', info.role);
    const by = info.nickname;
    for (const person of this.#m.state(room).waiting.clear()) {
      void this.#m.waitingChannel(roomId, person.id)?.notify('moderation.ended', { by });
      this.#m.dropWaiting(person.id);
    }
    room.broadcast('moderation.ended', { by });
    for (const m of [...room.members()]) room.remove(m.id);
  }

  /** Admits or denies someone waiting, on whichever node they wait. */
  async decide(
    roomId: string,
    actorId: string,
    waitingId: string,
    decision: 'admit' | 'deny',
  ): Promise<void> {
    const { room } = this.#on(roomId, actorId, undefined, 'admit');
    const entry = (await this.#m.waitingEntries(roomId)).find((e) => e.id === waitingId);
    const remote = this.#m.remote;
    if (entry && remote && entry.nodeId !== remote.nodeId) {
      await remote.decide(roomId, actorId, entry.nodeId, waitingId, decision);
      await this.#m.tellWaitingList(room); // That node took them off the list: read it again.
    } else {
      await this.decideHere(roomId, room.member(actorId)!.info, waitingId, decision);
    }
  }

  /** The decision on someone waiting on this node (from here, or from the actor's node). */
  async decideHere(
    roomId: string,
    actor: PeerInfo,
    waitingId: string,
    decision: 'admit' | 'deny',
  ): Promise<void> {
    authorize('admit', actor.role);
    const room = this.#m.rooms.require(roomId);
    let found: boolean;
    if (decision === 'admit') found = this.#m.admitHere(room, waitingId);
    else if ((found = this.#m.state(room).waiting.deny(waitingId))) {
      void this.#m.waitingChannel(roomId, waitingId)?.notify('moderation.denied', { roomId });
      this.#m.dropWaiting(waitingId);
    }
    // Off the shared list either way: an entry nobody here waits behind (a node that
    // restarted under its old id) must not stay listed for ever.
    await this.#m.offTheList(room, [waitingId]);
    if (!found) throw notWaiting();
  }

  /**
   * The admin API's mute or remove (an API key, checked by the HTTP layer): the same notices
   * as a moderator's, on whichever node the person sits. Answers the paused producers.
   */
  async byAdmin(roomId: string, peerId: string, action: 'mute' | 'remove'): Promise<string[]> {
    const room = await this.#m.rooms.find(roomId);
    const remote = this.#m.remote;
    if (!room.hasMember(peerId) && remote?.hosts(roomId, peerId)) {
      return remote.admin(roomId, peerId, action);
    }
    return this.byAdminHere(roomId, peerId, action);
  }

  async byAdminHere(roomId: string, peerId: string, action: 'mute' | 'remove'): Promise<string[]> {
    if (action === 'mute') return this.mute(roomId, ADMIN_ACTOR, peerId);
    await this.remove(roomId, ADMIN_ACTOR, peerId, false);
    return [];
  }

  /** A moderator's action on one person, as a value (the handlers and the cross-node relay). */
  apply(roomId: string, actor: Actor, targetId: string, action: TargetedAction): Promise<void> {
    switch (action.kind) {
      case 'setRole':
        return this.setRole(roomId, actor, targetId, action.role);
      case 'mute':
        return this.mute(roomId, actor, targetId).then(() => undefined);
      case 'allowUnmute':
        return Promise.resolve(this.allowUnmute(roomId, actor, targetId));
      case 'stopVideo':
        return Promise.resolve(this.stopVideo(roomId, actor, targetId, action.source));
      case 'remove':
        return this.remove(roomId, actor, targetId, action.ban);
    }
  }

  /** The room, the actor (a member of it) and the target, with the action authorized. */
  #on(
    roomId: string,
    actorId: Actor,
    targetId: string | undefined,
    action: ModerationAction,
  ): { room: Room; actor: { id: string; info: PeerInfo }; target: Member } {
    const room = this.#m.rooms.require(roomId);
    const local = typeof actorId === 'string' ? room.member(actorId) : undefined;
    const actor = typeof actorId === 'string' ? local : actorId;
    if (!actor) throw new TuttiError('NOT_JOINED', 'join the room first');
    if (targetId === undefined) {
      authorize(action, actor.info.role);
      if (!local) throw forbidden('only from the room’s own node'); // Room-wide: local only.
      return { room, actor, target: local };
    }
    const target = room.member(targetId);
    const admin = 'admin' in actor && actor.admin === true;
    if (!admin) authorize(action, actor.info.role); // A participant learns nothing about who is there.
    if (!target) throw gone();
    if (admin) return { room, actor, target }; // The admin API (no member) acts on anyone.
    if (target.id === actor.id && action !== 'mute' && action !== 'stopVideo') {
      throw forbidden('not on yourself');
    }
    authorize(action, actor.info.role, target.info.role);
    return { room, actor, target };
  }
}

function tell<M extends NotificationMethod>(
  member: Member,
  method: M,
  data: NotificationMap[M],
): void {
  void member.channel.notify(method, data);
}

function definedOnly(patch: Partial<ModerationSettings>): Partial<ModerationSettings> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
}

/** The settings kept with the room record (the lock is not). */
const STORED = ['waitingRoom', 'moderatorsUnmute', 'signedInOnly'] as const;

const gone = () => new TuttiError('NOT_FOUND', 'no such participant in this room');
const notWaiting = () => new TuttiError('NOT_FOUND', 'nobody with that id is waiting');
