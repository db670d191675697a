import {
  errorText,
  type ChatMessage,
  type JoinResult,
  type MediaSource,
  type PeerInfo,
  type RoomSummary,
  type RtpCapabilities,
} from '@tutti/protocol';
import { MediaClient, describe, prewarmMedia, type ConsumerInfo } from './media.ts';
import type { Signaling } from './signaling.ts';
import { storage } from './storage.ts';

export interface RemoteTrack {
  consumerId: string;
  peerId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  track: MediaStreamTrack;
  /** The producer is paused (sender muted). */
  producerPaused: boolean;
  score: number | null;
  spatialLayer: number | null;
  temporalLayer: number | null;
}

export interface Notice {
  id: number;
  text: string;
  at: number;
}

export type LocalState = 'on' | 'off' | 'none';

/** Owner changes to a room (`room.update`): `null` removes the password / the capacity. */
export interface RoomPatch {
  name?: string;
  password?: string | null;
  capacity?: number | null;
}

export type EndReason = 'left' | 'deleted' | 'shutdown' | 'error';

let noticeSeq = 0;

/**
 * Everything about the room this tab is in: members, remote tracks, local media, chat.
 * Svelte 5 runes make each field reactive for the views.
 */
export class RoomSession {
  room: RoomSummary;
  self: PeerInfo;
  peers = $state<PeerInfo[]>([]);
  tracks = $state<RemoteTrack[]>([]);
  activeSpeaker = $state<string | null>(null);
  levels = $state<Record<string, number>>({});
  notices = $state<Notice[]>([]);
  messages = $state<ChatMessage[]>([]);
  hasMoreHistory = $state(false);
  /** Local media: the tracks we show as self preview. */
  mic = $state<LocalState>('none');
  camera = $state<LocalState>('none');
  screen = $state(false);
  cameraTrack = $state.raw<MediaStreamTrack | null>(null);
  screenTrack = $state.raw<MediaStreamTrack | null>(null);
  producerScores = $state<Record<string, number>>({});
  producerIds = $state<Partial<Record<MediaSource, string>>>({});
  error = $state<string | null>(null);
  mediaStatus = $state<'starting' | 'ready' | 'restarting' | 'failed'>('starting');
  ownerSecret = $state<string | null>(null);
  ended = $state<EndReason | null>(null);
  speakerId = $state<string | null>(storage.device('audiooutput'));

  readonly media: MediaClient;
  #off: (() => void)[] = [];
  #password: string | undefined;
  #onEnd: (reason: EndReason, message?: string) => void;
  #giveUp: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly signaling: Signaling,
    joined: JoinResult,
    password: string | undefined,
    onEnd: (reason: EndReason, message?: string) => void,
  ) {
    this.#password = password;
    this.#onEnd = onEnd;
    this.room = $state(joined.room);
    this.self = $state(joined.self);
    this.#applyJoin(joined);
    this.ownerSecret = storage.ownerSecret(joined.room.id);
    this.media = new MediaClient(signaling, {
      consumerAdded: (info) => this.#addTrack(info),
      consumerRemoved: (id) => {
        this.tracks = this.tracks.filter((t) => t.consumerId !== id);
      },
      producerChanged: (source, state) => this.#producerChanged(source, state),
      error: (message) => this.showError(message),
    });
    this.#listen();
  }

  static async join(
    signaling: Signaling,
    roomId: string,
    nickname: string,
    password: string | undefined,
    onEnd: (reason: EndReason, message?: string) => void,
  ): Promise<RoomSession> {
    prewarmMedia();
    const joined = await signaling.request('room.join', {
      roomId,
      nickname,
      ...(password ? { password } : {}),
    });
    const session = new RoomSession(signaling, joined, password, onEnd);
    exposeForTests(session);
    // Get the media requests on the wire before the room view renders (rendering it takes
    // tens of milliseconds of main thread the server can use to set up our consumers).
    let dispatched: () => void = () => undefined;
    const onWire = new Promise<void>((resolve) => (dispatched = resolve));
    const media = session.startMedia(joined.routerRtpCapabilities, storage.autoMedia, dispatched);
    await Promise.race([onWire, media]);
    return session;
  }

  #applyJoin(joined: JoinResult): void {
    this.room = joined.room;
    this.self = joined.self;
    this.peers = joined.peers.filter((p) => p.id !== joined.self.id);
    const known = new Set(this.messages.map((m) => m.id));
    const merged = [...this.messages, ...joined.history.filter((m) => !known.has(m.id))];
    merged.sort((a, b) => a.seq - b.seq);
    this.messages = merged;
  }

  /**
   * Who to highlight: the server's dominant speaker (sent on changes and once after
   * media.ready); while there is none, the loudest voice from the audio levels.
   */
  get speaker(): string | null {
    if (this.activeSpeaker) return this.activeSpeaker;
    let best: string | null = null;
    let loudest = -Infinity;
    for (const [peerId, volume] of Object.entries(this.levels)) {
      if (volume > loudest) {
        loudest = volume;
        best = peerId;
      }
    }
    return best;
  }

  get everyone(): PeerInfo[] {
    return [this.self, ...this.peers];
  }

  get isOwner(): boolean {
    return this.ownerSecret !== null;
  }

  peer(id: string): PeerInfo | undefined {
    return id === this.self.id ? this.self : this.peers.find((p) => p.id === id);
  }

  #notice(text: string): void {
    this.notices = [...this.notices.slice(-49), { id: ++noticeSeq, text, at: Date.now() }];
  }

  showError(message: string): void {
    this.error = message;
    const current = message;
    setTimeout(() => {
      if (this.error === current) this.error = null;
    }, 8000);
  }

  #listen(): void {
    const s = this.signaling;
    this.#off.push(
      s.on('room.peerJoined', ({ peer }) => {
        if (peer.id === this.self.id) return;
        this.peers = [...this.peers.filter((p) => p.id !== peer.id), peer];
        this.#notice(`${peer.nickname} joined`);
      }),
      s.on('room.peerLeft', ({ peerId, nickname }) => {
        if (!this.peers.some((p) => p.id === peerId)) return;
        this.peers = this.peers.filter((p) => p.id !== peerId);
        this.tracks = this.tracks.filter((t) => t.peerId !== peerId);
        if (this.activeSpeaker === peerId) this.activeSpeaker = null;
        this.#notice(`${nickname} left`);
      }),
      s.on('room.peerUpdated', ({ peer }) => {
        if (peer.id === this.self.id) {
          this.self = peer;
          return;
        }
        this.peers = this.peers.map((p) => (p.id === peer.id ? peer : p));
      }),
      s.on('room.updated', ({ room }) => {
        if (room.id === this.room.id) this.room = room;
      }),
      s.on('room.closed', ({ reason }) => {
        if (reason === 'deleted') {
          this.#end('deleted', 'The room was deleted by its owner.');
          return;
        }
        // Server shutdown/restart: rooms persist, so stay and rejoin once it is back.
        this.media.reset();
        this.tracks = [];
        this.mediaStatus = 'restarting';
        this.#notice('The server is restarting, reconnecting…');
        clearTimeout(this.#giveUp);
        this.#giveUp = setTimeout(() => {
          if (this.mediaStatus === 'restarting')
            this.#end('shutdown', 'The server closed the room.');
        }, 60_000);
      }),
      s.on('media.consumerClosed', ({ consumerId }) => this.media.closeConsumer(consumerId)),
      s.on('media.consumerPaused', ({ consumerId }) =>
        this.#patchTrack(consumerId, { producerPaused: true }),
      ),
      s.on('media.consumerResumed', ({ consumerId }) =>
        this.#patchTrack(consumerId, { producerPaused: false }),
      ),
      s.on('media.consumerLayersChanged', ({ consumerId, spatialLayer, temporalLayer }) =>
        this.#patchTrack(consumerId, { spatialLayer, temporalLayer }),
      ),
      s.on('media.consumerScore', ({ consumerId, score }) =>
        this.#patchTrack(consumerId, { score }),
      ),
      s.on('media.producerScore', ({ producerId, score }) => {
        this.producerScores = { ...this.producerScores, [producerId]: score };
      }),
      s.on('media.activeSpeaker', ({ peerId }) => {
        this.activeSpeaker = peerId;
      }),
      s.on('media.audioLevels', ({ levels }) => {
        const next: Record<string, number> = {};
        for (const l of levels) next[l.peerId] = l.volume;
        this.levels = next;
      }),
      s.on('media.restart', () => {
        void this.restartMedia();
      }),
      s.on('chat.message', ({ message }) => this.#addMessage(message)),
      s.onState((state, reconnect) => {
        if (state === 'open' && reconnect && !this.ended) void this.#rejoin();
        if (state === 'disconnected' && !this.ended) this.mediaStatus = 'restarting';
      }),
    );
  }

  #patchTrack(consumerId: string, patch: Partial<RemoteTrack>): void {
    this.tracks = this.tracks.map((t) => (t.consumerId === consumerId ? { ...t, ...patch } : t));
  }

  #addTrack(info: ConsumerInfo): void {
    const track: RemoteTrack = {
      consumerId: info.id,
      peerId: info.peerId,
      kind: info.kind,
      source: info.source,
      track: info.track,
      producerPaused: info.producerPaused,
      score: null,
      spatialLayer: null,
      temporalLayer: null,
    };
    this.tracks = [...this.tracks.filter((t) => t.consumerId !== info.id), track];
  }

  #producerChanged(source: MediaSource, state: { paused: boolean; id: string } | null): void {
    const ids = { ...this.producerIds };
    if (state) ids[source] = state.id;
    else delete ids[source];
    this.producerIds = ids;
    const local = this.media.local.get(source);
    const value: LocalState = state
      ? state.paused
        ? 'off'
        : 'on'
      : local
        ? local.paused
          ? 'off'
          : 'on'
        : 'none';
    if (source === 'mic') this.mic = value;
    else if (source === 'camera') {
      this.camera = value;
      this.cameraTrack = value === 'on' ? (local?.track ?? null) : null;
    } else if (source === 'screen') {
      this.screen = value !== 'none';
      this.screenTrack = value !== 'none' ? (local?.track ?? null) : null;
    }
  }

  #addMessage(message: ChatMessage): void {
    if (this.messages.some((m) => m.id === message.id)) return;
    const next = [...this.messages, message];
    if (next.length > 1 && next[next.length - 2]!.seq > message.seq)
      next.sort((a, b) => a.seq - b.seq);
    this.messages = next;
    this.onMessage?.(message);
  }

  /** Set by the chat panel to count unread messages. */
  onMessage: ((message: ChatMessage) => void) | null = null;

  // ---- media lifecycle ----

  /**
   * Media start: the camera and microphone are captured while the device loads and the
   * transports are created (not in front of them), and published once sending is possible.
   */
  async startMedia(
    routerRtpCapabilities: RtpCapabilities,
    acquire: boolean,
    onDispatched?: () => void,
  ): Promise<void> {
    this.mediaStatus = 'starting';
    const mic = acquire ? quiet(captureMic()) : null;
    const camera = acquire ? quiet(getCameraTrack(storage.device('videoinput'))) : null;
    try {
      await this.media.start(routerRtpCapabilities, onDispatched);
      this.mediaStatus = 'ready';
    } catch (err) {
      for (const capture of [mic, camera])
        void capture?.then(
          (t) => t.stop(),
          () => undefined,
        );
      if (this.ended) return;
      this.mediaStatus = 'failed';
      this.showError(`Media setup failed: ${describe(err)}`);
      return;
    }
    if (mic && camera) {
      // Receive first: while the first remote streams connect and decode, encoding our own
      // camera (3 simulcast layers) competes for the CPU. Capture is already under way.
      if (this.peers.some((p) => p.camera !== 'none' || p.mic !== 'none' || p.screen))
        await this.media.recvConnected(1000);
      await Promise.all([this.enableMic(mic), this.enableCamera(camera)]);
    }
  }

  async restartMedia(): Promise<void> {
    if (this.ended) return;
    this.mediaStatus = 'restarting';
    this.#notice('Media connection moved, reconnecting…');
    try {
      await this.media.restart();
      this.mediaStatus = 'ready';
    } catch (err) {
      this.mediaStatus = 'failed';
      this.showError(`Could not restore media: ${describe(err)}`);
    }
  }

  async #rejoin(): Promise<void> {
    // The signaling connection was re-established (server restart or network drop): the
    // server no longer knows this tab, so join again and rebuild media on the same tracks.
    this.media.reset();
    this.tracks = [];
    try {
      const joined = await this.signaling.request('room.join', {
        roomId: this.room.id,
        nickname: this.self.nickname,
        ...(this.#password ? { password: this.#password } : {}),
      });
      this.#applyJoin(joined);
      this.#notice('Reconnected');
      await this.media.start(joined.routerRtpCapabilities);
      this.mediaStatus = 'ready';
      clearTimeout(this.#giveUp);
    } catch (err) {
      this.#end('error', `Lost the room: ${errorText(err)}`);
    }
  }

  /** Turns the microphone on; `capture` is a capture already under way. */
  async enableMic(capture?: Promise<MediaStreamTrack>): Promise<void> {
    if (!this.media.device?.canProduce('audio')) {
      void capture?.then(
        (t) => t.stop(),
        () => undefined,
      );
      return;
    }
    try {
      const track = await (capture ?? captureMic());
      if (this.ended) {
        track.stop();
        return;
      }
      await this.media.publish('mic', track, false);
    } catch (err) {
      this.showError(`Microphone unavailable: ${describe(err)}`);
    }
  }

  /** Turns the camera on; `capture` is a capture already under way. */
  async enableCamera(capture?: Promise<MediaStreamTrack>): Promise<void> {
    if (!this.media.device?.canProduce('video')) {
      void capture?.then(
        (t) => t.stop(),
        () => undefined,
      );
      return;
    }
    try {
      const track = await (capture ?? getCameraTrack(storage.device('videoinput')));
      if (this.ended) {
        track.stop();
        return;
      }
      await this.media.publish('camera', track, false);
    } catch (err) {
      this.showError(`Camera unavailable: ${describe(err)}`);
    }
  }

  async toggleMic(): Promise<void> {
    if (this.mic === 'none') return this.enableMic();
    await this.media
      .setPaused('mic', this.mic === 'on')
      .catch((err: unknown) => this.showError(describe(err)));
  }

  async toggleCamera(): Promise<void> {
    // Camera off = producer paused + capture stopped (so the camera light goes off);
    // on again = a fresh capture swapped in with replaceTrack, then resumed.
    try {
      if (this.camera === 'none') return await this.enableCamera();
      if (this.camera === 'on') {
        await this.media.setPaused('camera', true);
        this.media.local.get('camera')?.track.stop();
        this.cameraTrack = null;
      } else {
        const track = await getCameraTrack(storage.device('videoinput'));
        await this.media.replaceTrack('camera', track);
        await this.media.setPaused('camera', false);
      }
    } catch (err) {
      this.showError(`Camera: ${describe(err)}`);
    }
  }

  async toggleScreen(): Promise<void> {
    if (this.screen) {
      await this.media.stopSource('screen');
      await this.media.stopSource('screen-audio');
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getDisplayMedia({
        video: { frameRate: { ideal: 15, max: 30 } },
        audio: true,
      });
      const video = stream.getVideoTracks()[0];
      if (!video) return;
      video.contentHint = 'detail';
      await this.media.publish('screen', video, false);
      const audio = stream.getAudioTracks()[0];
      if (audio) await this.media.publish('screen-audio', audio, false);
    } catch (err) {
      if (err instanceof DOMException && err.name === 'NotAllowedError') return;
      this.showError(`Screen sharing failed: ${describe(err)}`);
    }
  }

  async switchDevice(
    kind: 'audioinput' | 'videoinput' | 'audiooutput',
    deviceId: string,
  ): Promise<void> {
    storage.setDevice(kind, deviceId);
    try {
      if (kind === 'audiooutput') {
        this.speakerId = deviceId;
      } else if (kind === 'audioinput' && this.mic !== 'none') {
        const stream = await navigator.mediaDevices.getUserMedia({
          audio: { deviceId: { exact: deviceId } },
        });
        const track = stream.getAudioTracks()[0];
        if (track) {
          track.enabled = true;
          await this.media.replaceTrack('mic', track);
        }
      } else if (kind === 'videoinput' && this.camera === 'on') {
        const track = await getCameraTrack(deviceId);
        await this.media.replaceTrack('camera', track);
        this.cameraTrack = track;
      }
    } catch (err) {
      this.showError(`Could not switch device: ${describe(err)}`);
    }
  }

  // ---- chat ----

  async sendChat(text: string, to: string | null): Promise<void> {
    const { message } = await this.signaling.request('chat.send', {
      text,
      ...(to ? { to } : {}),
    });
    this.#addMessage(message);
  }

  async loadOlder(): Promise<void> {
    const oldest = this.messages[0];
    const { messages, hasMore } = await this.signaling.request('chat.history', {
      ...(oldest ? { before: oldest.id } : {}),
      limit: 100,
    });
    const known = new Set(this.messages.map((m) => m.id));
    this.messages = [...messages.filter((m) => !known.has(m.id)), ...this.messages];
    this.hasMoreHistory = hasMore;
  }

  // ---- leaving ----

  async leave(): Promise<void> {
    if (this.ended) return;
    await this.signaling.request('room.leave', {}).catch(() => undefined);
    this.#end('left');
  }

  /** Owner only: rename the room, set/remove its password, change its capacity. */
  async updateRoom(patch: RoomPatch): Promise<void> {
    if (!this.ownerSecret) throw new Error('Only the owner can change the room.');
    try {
      const { room } = await this.signaling.request('room.update', {
        roomId: this.room.id,
        ownerSecret: this.ownerSecret,
        ...patch,
      });
      if (room.id === this.room.id) this.room = room;
      // Our own rejoin after a reconnect must use the new password.
      if (patch.password !== undefined) this.#password = patch.password ?? undefined;
    } catch (err) {
      throw new Error(errorText(err), { cause: err });
    }
  }

  async deleteRoom(): Promise<void> {
    if (!this.ownerSecret) return;
    try {
      await this.signaling.request('room.delete', {
        roomId: this.room.id,
        ownerSecret: this.ownerSecret,
      });
      storage.setOwnerSecret(this.room.id, null);
      this.#end('deleted', 'You deleted the room.');
    } catch (err) {
      this.showError(`Could not delete the room: ${errorText(err)}`);
    }
  }

  #end(reason: EndReason, message?: string): void {
    if (this.ended) return;
    this.ended = reason;
    clearTimeout(this.#giveUp);
    for (const off of this.#off) off();
    this.#off = [];
    this.media.close();
    this.#onEnd(reason, message);
  }
}

/** Marks a promise as handled (it is awaited later) so an early rejection is not reported. */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

async function captureMic(): Promise<MediaStreamTrack> {
  const deviceId = storage.device('audioinput');
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: deviceId ? { deviceId: { ideal: deviceId } } : true,
  });
  const track = stream.getAudioTracks()[0];
  if (!track) throw new Error('no microphone track');
  return track;
}

async function getCameraTrack(deviceId: string | null): Promise<MediaStreamTrack> {
  const height = storage.cameraHeight;
  const stream = await navigator.mediaDevices.getUserMedia({
    video: {
      ...(deviceId ? { deviceId: { ideal: deviceId } } : {}),
      height: { ideal: height },
      width: { ideal: Math.round((height * 16) / 9) },
      frameRate: { ideal: 24, max: 30 },
    },
  });
  const track = stream.getVideoTracks()[0];
  if (!track) throw new Error('no camera track');
  return track;
}

declare global {
  interface Window {
    __tutti?: {
      session: RoomSession;
      inboundBytes(kind: 'audio' | 'video'): Promise<number>;
      inboundBytesByPeer(kind: 'audio' | 'video'): Promise<Record<string, number>>;
      selfId(): string;
      producerPaused(source: MediaSource): boolean | null;
      restarts(): number;
    };
  }
}

/** Test hooks: e2e tests read RTP statistics and producer state through these. */
function exposeForTests(session: RoomSession): void {
  window.__tutti = {
    session,
    inboundBytes: (kind) => session.media.inboundBytes(kind),
    inboundBytesByPeer: (kind) => session.media.inboundBytesByPeer(kind),
    selfId: () => session.self.id,
    producerPaused: (source) => {
      const p = session.media.producers.get(source);
      return p ? p.paused : null;
    },
    restarts: () => session.media.restarts,
  };
}
