import { errorCodeOf, errorText, type RoomSummary, type RtpCapabilities } from '@tutti/protocol';
import type { Component } from 'svelte';
import type * as RoomChunkModule from './room-chunk.ts';
import { deleteRoom } from './session/ownerActions.ts';
import type { EndReason, RoomSession } from './session/RoomSession.svelte.ts';
import { takeJoinTokenFromUrl, type UrlJoinToken } from './joinToken.ts';
import { Signaling, type ConnectionState } from './signaling.ts';
import { storage } from './storage.ts';

/** Human text for a failed request, by stable error code. */
export function explain(err: unknown): string {
  switch (errorCodeOf(err)) {
    case 'BAD_PASSWORD':
      return `Wrong password: ${errorText(err)}`;
    case 'ROOM_FULL':
      return `The room is full: ${errorText(err)}`;
    case 'ROOM_NOT_FOUND':
      return `That room no longer exists.`;
    case 'TOKEN_EXPIRED':
      return 'Your invitation link has expired: ask for a new one.';
    case 'TOKEN_INVALID':
    case 'TOKEN_KEY_UNKNOWN':
    case 'TOKEN_WRONG_ROOM':
      return `This invitation link is not valid: ${errorText(err)}`;
    case 'SIGN_IN_REQUIRED':
      return 'Sign in to join this room.';
    case 'ROOM_LOCKED':
      return `The room is locked: no one can join right now.`;
    case 'BANNED':
      return `You were removed from this room and cannot come back.`;
    case 'RATE_LIMITED':
    case 'TOO_MANY_ATTEMPTS':
      return `Too many attempts, wait a moment: ${errorText(err)}`;
    default:
      return errorText(err);
  }
}

type RoomChunk = typeof RoomChunkModule;
let roomChunk: Promise<RoomChunk> | null = null;

/** Loads the room chunk (once; a failed load is retried next time). */
export function loadRoomChunk(): Promise<RoomChunk> {
  if (!roomChunk) {
    roomChunk = import('./room-chunk.ts');
    roomChunk.catch(() => {
      roomChunk = null;
    });
  }
  return roomChunk;
}

/** App-wide state: the signaling connection, the lobby's room list, the current room. */
export class AppState {
  readonly signaling: Signaling;
  connection = $state<ConnectionState>('connecting');
  rooms = $state<RoomSummary[]>([]);
  session = $state<RoomSession | null>(null);
  /** The room view component, once its chunk is loaded. */
  roomView = $state.raw<Component<{ session: RoomSession }> | null>(null);
  /** Shown in the lobby (e.g. "the room was deleted"). */
  lobbyMessage = $state<string | null>(null);
  joining = $state(false);
  /** What the lobby tells about moderation: waiting, denied, removed, the meeting ended. */
  notice = $state<{ kind: 'waiting' | 'denied' | 'removed' | 'ended'; text: string } | null>(null);
  /** The join parked in a waiting room, sent again once a moderator admits it. */
  #waitingFor: { roomId: string; nickname: string; password: string | undefined } | null = null;
  /** A shared link's room (#/room/<id>): joined as soon as the lobby list shows it. */
  linkRoom = $state<string | null>(roomIdFromHash());
  /**
   * A shared link's join may come (its room, a remembered nickname): the lobby is not
   * rendered meanwhile — its first render cost the link's join 100–200 ms of a loaded main
   * thread in front of the room chunk — but once the join fails, or cannot be made.
   */
  linkPending = $state(roomIdFromHash() !== null && validNickname(storage.nickname));
  /** The server's router capabilities (lobby.subscribe): the one-reply join loads them first. */
  #routerCaps: RtpCapabilities | undefined;
  /** `?token=` in the page URL: joined as soon as the socket is open. */
  #urlToken: UrlJoinToken | null = takeJoinTokenFromUrl();

  constructor(signaling = new Signaling()) {
    this.signaling = signaling;
    // A shared link (#/room/<id>) joins right away: probe the browser's media capabilities
    // while the socket connects.
    if (roomIdFromHash()) {
      loadRoomChunk().then(
        (chunk) => chunk.prewarmMedia(),
        () => undefined,
      );
    }
    signaling.on('lobby.rooms', ({ rooms }) => {
      this.rooms = sortRooms(rooms);
      this.#joinLinkRoom();
    });
    signaling.on('moderation.admitted', ({ roomId }) => {
      const w = this.#waitingFor;
      if (w?.roomId !== roomId) return;
      this.#waitingFor = null;
      this.notice = null;
      this.joinRoom(w.roomId, w.nickname, w.password).catch((err: unknown) => {
        this.lobbyMessage = explain(err);
      });
    });
    signaling.on('moderation.denied', ({ roomId }) => {
      if (this.#waitingFor?.roomId !== roomId) return;
      this.#waitingFor = null;
      this.notice = { kind: 'denied', text: 'A moderator did not let you in.' };
    });
    signaling.on('moderation.ended', () => {
      if (!this.#waitingFor) return;
      this.#waitingFor = null;
      this.notice = { kind: 'ended', text: 'The meeting ended before you were let in.' };
    });
    signaling.onState((state) => {
      this.connection = state;
      if (state === 'disconnected') this.linkPending = false;
      if (state === 'open') void this.subscribeLobby();
    });
  }

  async subscribeLobby(): Promise<void> {
    try {
      // The page's first lobby was asked for by boot.ts as its socket opened.
      const early = this.signaling.takeEarlyLobby();
      const { rooms, routerRtpCapabilities } = await (early?.catch(() =>
        this.signaling.request('lobby.subscribe', {}),
      ) ?? this.signaling.request('lobby.subscribe', {}));
      this.rooms = sortRooms(rooms);
      if (routerRtpCapabilities && !this.#routerCaps) {
        // A join may follow any moment: have the room chunk and the native capabilities
        // ready so the one-reply join only computes the device before room.join.
        loadRoomChunk().then(
          (chunk) => chunk.prewarmMedia(),
          () => undefined,
        );
      }
      this.#routerCaps = routerRtpCapabilities;
      this.#joinWithToken();
      this.#joinLinkRoom();
    } catch (err) {
      console.warn('lobby.subscribe failed', err);
    }
    // No link join under way (the room is not listed, or locked): the lobby asks.
    if (!this.joining && !this.session) this.linkPending = false;
  }

  /** A page opened with a join token goes straight into the token's room. */
  #joinWithToken(): void {
    const t = this.#urlToken;
    if (!t || this.session || this.joining) return;
    this.#urlToken = null;
    this.linkRoom = null;
    this.joinRoom(t.roomId, t.nickname, undefined, t.token).catch((err: unknown) => {
      this.lobbyMessage = explain(err);
    });
  }

  /**
   * Opening a shared link joins right from the lobby list's arrival (not after the lobby
   * rendered it). A locked room, or no remembered nickname, is left to the lobby, which
   * selects the room and asks.
   */
  #joinLinkRoom(): void {
    const id = this.linkRoom;
    const room = id ? this.rooms.find((r) => r.id === id) : undefined;
    if (!room || room.locked || this.session || this.joining) return;
    const nickname = storage.nickname.trim();
    if (!validNickname(nickname)) return;
    this.linkRoom = null;
    this.joinRoom(room.id, nickname).catch((err: unknown) => {
      this.lobbyMessage = explain(err);
    });
  }

  async createRoom(input: {
    name: string;
    password?: string;
    capacity?: number;
    e2ee?: boolean;
    nickname: string;
  }): Promise<void> {
    const { room, ownerSecret } = await this.signaling.request('room.create', {
      name: input.name,
      ...(input.password ? { password: input.password } : {}),
      ...(input.capacity ? { capacity: input.capacity } : {}),
      ...(input.e2ee ? { e2ee: true } : {}),
    });
    storage.setOwnerSecret(room.id, ownerSecret);
    await this.joinRoom(room.id, input.nickname, input.password);
  }

  async joinRoom(
    roomId: string,
    nickname: string,
    password?: string,
    token?: string,
  ): Promise<void> {
    this.joining = true;
    this.lobbyMessage = null;
    this.notice = null;
    try {
      if (!token) storage.nickname = nickname;
      const chunk = await loadRoomChunk();
      this.roomView = chunk.RoomView;
      const session = await chunk.RoomSession.join(
        this.signaling,
        roomId,
        nickname,
        password,
        (r, m) => this.#ended(r, m),
        token,
        {
          routerRtpCapabilities: this.#routerCaps,
          e2ee: this.rooms.find((r) => r.id === roomId)?.e2ee,
        },
      );
      this.session = session;
      history.replaceState(null, '', `#/room/${encodeURIComponent(roomId)}`);
    } catch (err) {
      if (errorCodeOf(err) !== 'WAITING') throw err;
      // Parked in the waiting room: moderation.admitted sends the join again.
      this.#waitingFor = { roomId, nickname, password };
      this.notice = { kind: 'waiting', text: 'Waiting for a moderator to let you in…' };
    } finally {
      this.joining = false;
      this.linkPending = false;
    }
  }

  /** Gives up waiting (the server takes us off the waiting list). */
  async stopWaiting(): Promise<void> {
    this.#waitingFor = null;
    this.notice = null;
    await this.signaling.request('room.leave', {}).catch(() => undefined);
  }

  async deleteRoom(roomId: string): Promise<void> {
    await deleteRoom(this.signaling, roomId);
  }

  #ended(reason: EndReason, message?: string): void {
    this.session = null;
    if (reason === 'removed' || reason === 'ended') {
      this.notice = { kind: reason, text: message ?? '' };
      this.lobbyMessage = null;
    } else {
      this.lobbyMessage = reason === 'left' ? null : (message ?? null);
    }
    history.replaceState(null, '', '#/');
    void this.subscribeLobby();
  }
}

function validNickname(nickname: string): boolean {
  const n = nickname.trim();
  return n.length > 0 && n.length <= 32;
}

function sortRooms(rooms: RoomSummary[]): RoomSummary[] {
  return [...rooms].sort((a, b) => b.createdAt - a.createdAt);
}

/** The room id in the URL (#/room/<id>), if any. */
export function roomIdFromHash(): string | null {
  const m = /^#\/room\/([^/?#]+)/.exec(location.hash);
  return m ? decodeURIComponent(m[1]!) : null;
}
