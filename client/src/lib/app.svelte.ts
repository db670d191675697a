import { errorCodeOf, errorText, type RoomSummary } from '@tutti/protocol';
import type { Component } from 'svelte';
import type * as RoomChunkModule from './room-chunk.ts';
import { deleteRoom } from './session/ownerActions.ts';
import type { EndReason, RoomSession } from './session/RoomSession.svelte.ts';
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
  /** A shared link's room (#/room/<id>): joined as soon as the lobby list shows it. */
  linkRoom = $state<string | null>(roomIdFromHash());

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
    signaling.onState((state) => {
      this.connection = state;
      if (state === 'open') void this.subscribeLobby();
    });
  }

  async subscribeLobby(): Promise<void> {
    try {
      const { rooms } = await this.signaling.request('lobby.subscribe', {});
      this.rooms = sortRooms(rooms);
      this.#joinLinkRoom();
    } catch (err) {
      console.warn('lobby.subscribe failed', err);
    }
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
    if (!nickname || nickname.length > 32) return;
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

  async joinRoom(roomId: string, nickname: string, password?: string): Promise<void> {
    this.joining = true;
    this.lobbyMessage = null;
    try {
      storage.nickname = nickname;
      const chunk = await loadRoomChunk();
      this.roomView = chunk.RoomView;
      const session = await chunk.RoomSession.join(
        this.signaling,
        roomId,
        nickname,
        password,
        (r, m) => this.#ended(r, m),
      );
      this.session = session;
      history.replaceState(null, '', `#/room/${encodeURIComponent(roomId)}`);
    } finally {
      this.joining = false;
    }
  }

  async deleteRoom(roomId: string): Promise<void> {
    await deleteRoom(this.signaling, roomId);
  }

  #ended(reason: EndReason, message?: string): void {
    this.session = null;
    this.lobbyMessage = reason === 'left' ? null : (message ?? null);
    history.replaceState(null, '', '#/');
    void this.subscribeLobby();
  }
}

function sortRooms(rooms: RoomSummary[]): RoomSummary[] {
  return [...rooms].sort((a, b) => b.createdAt - a.createdAt);
}

/** The room id in the URL (#/room/<id>), if any. */
export function roomIdFromHash(): string | null {
  const m = /^#\/room\/([^/?#]+)/.exec(location.hash);
  return m ? decodeURIComponent(m[1]!) : null;
}
