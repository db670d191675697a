import {
  TuttiError,
  type ModerationSettings,
  type PeerInfo,
  type NotificationMap,
  type NotificationMethod,
} from '@tutti/protocol';
import type { Member, Room } from '../rooms/Room.ts';
import type { Moderation } from './Moderation.ts';
import type { TargetedAction } from './remote.ts';
import { authorize, forbidden, type ModerationAction } from './roles.ts';

/**
 * Who acts: a member of this node (its id), or one on another node as that node's presence
 * announced it (federation/moderationRelay.ts: never what the request says of itself).
 */
export type Actor = string | { id: string; info: PeerInfo };

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
    this.#m.state(room).rememberModerator(account, role === 'moderator');
    // A new moderator sees who is waiting.
    if (role === 'moderator')
      tell(target, 'moderation.waiting', { waiting: this.#m.state(room).waiting.list() });
  }

  /** Pauses the target's mic on the server; with "moderators unmute" they cannot resume it. */
  async mute(roomId: string, actorId: Actor, targetId: string): Promise<void> {
    const { room, actor, target } = this.#on(roomId, actorId, targetId, 'mute');
    const state = this.#m.state(room);
    state.holdMic(targetId);
    for (const p of [...target.media.producers()]) {
      if (p.appData.source === 'mic' && !p.paused) await target.media.pauseProducer(p.id);
    }
    tell(target, 'moderation.muted', {
      by: actor.info.nickname,
      canUnmute: !state.settings.moderatorsUnmute,
    });
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
      this.#m.state(room).bar({ accountId, address: target.channel.ip });
    }
    if (!room.hasMember(targetId)) return;
    // Told first, on the same socket, so the client knows why it leaves the room.
    tell(target, 'moderation.removed', { by: actor.info.nickname, banned: ban });
    room.remove(targetId);
    this.#m.log.info({ roomId, peerId: targetId, by: actor.id, ban }, 'member removed');
  }

  /** Changes settings; the stored ones are written first (STORE_UNAVAILABLE changes nothing). */
  async settings(
    roomId: string,
    actorId: string,
    patch: Partial<ModerationSettings>,
  ): Promise<ModerationSettings> {
    const { room } = this.#on(roomId, actorId, undefined, 'settings');
    const state = this.#m.state(room);
    const next = { ...state.settings, ...definedOnly(patch) };
    const { waitingRoom, moderatorsUnmute, signedInOnly } = next;
    const was = state.settings;
    if (
      waitingRoom !== was.waitingRoom ||
      moderatorsUnmute !== was.moderatorsUnmute ||
      signedInOnly !== was.signedInOnly
    ) {
      await this.#m.store.setSettings(roomId, { waitingRoom, moderatorsUnmute, signedInOnly });
    }
    state.settings = next;
    room.broadcast('moderation.settings', { settings: { ...state.settings } });
    // Waiting room off: whoever waits is let in.
    if (was.waitingRoom && !state.settings.waitingRoom) {
      for (const person of state.waiting.list()) this.#admit(room, person.id);
      this.#m.tellWaitingList(room);
    }
    return { ...state.settings };
  }

  /** Everyone is taken out (told first); whoever waits is sent away. The room stays. */
  end(roomId: string, actorId: string): void {
    const { room, actor } = this.#on(roomId, actorId, undefined, 'end');
    const by = actor.info.nickname;
    for (const person of this.#m.state(room).waiting.clear()) {
      void this.#m.waitingChannel(roomId, person.id)?.notify('moderation.ended', { by });
      this.#m.dropWaiting(person.id);
    }
    room.broadcast('moderation.ended', { by });
    for (const m of [...room.members()]) room.remove(m.id);
    this.#m.log.info({ roomId, by: actorId }, 'meeting ended');
  }

  admit(roomId: string, actorId: string, waitingId: string): void {
    const { room } = this.#on(roomId, actorId, undefined, 'admit');
    if (!this.#admit(room, waitingId)) throw notWaiting();
    this.#m.tellWaitingList(room);
  }

  deny(roomId: string, actorId: string, waitingId: string): void {
    const { room } = this.#on(roomId, actorId, undefined, 'admit');
    if (!this.#m.state(room).waiting.deny(waitingId)) throw notWaiting();
    void this.#m.waitingChannel(roomId, waitingId)?.notify('moderation.denied', { roomId });
    this.#m.dropWaiting(waitingId);
    this.#m.tellWaitingList(room);
  }

  #admit(room: Room, waitingId: string): boolean {
    if (!this.#m.state(room).waiting.admit(waitingId)) return false;
    // The ticket waits for their room.join; the channel stays known until then.
    void this.#m
      .waitingChannel(room.id, waitingId)
      ?.notify('moderation.admitted', { roomId: room.id });
    return true;
  }

  /** A moderator's action on one person, as a value (the handlers and the cross-node relay). */
  apply(roomId: string, actor: Actor, targetId: string, action: TargetedAction): Promise<void> {
    switch (action.kind) {
      case 'setRole':
        return this.setRole(roomId, actor, targetId, action.role);
      case 'mute':
        return this.mute(roomId, actor, targetId);
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
    authorize(action, actor.info.role); // A participant learns nothing about who is there.
    if (!target) throw gone();
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

const gone = () => new TuttiError('NOT_FOUND', 'no such participant in this room');
const notWaiting = () => new TuttiError('NOT_FOUND', 'nobody with that id is waiting');
