import type { IceSettings, JoinResult, RequestData } from '@tutti/protocol';
import { errorCodeOf, errorText } from '@tutti/protocol';
import { prewarmMedia } from '../media/device.ts';
import { prepareShortJoin, shortJoinMedia, type LobbyMedia } from './shortJoin.ts';
import { describe } from '../media/errors.ts';
import { MediaClient } from '../media/MediaClient.ts';
import type { Signaling } from '../signaling.ts';
import { ChatStore } from '../state/chat.svelte.ts';
import { CaptionsStore } from '../state/captions.svelte.ts';
import { E2eeStore } from '../state/e2ee.svelte.ts';
import { RoomLifeStore } from '../state/roomLife.svelte.ts';
import { LocalMediaStore } from '../state/local.svelte.ts';
import { MembersStore } from '../state/members.svelte.ts';
import { ModerationStore } from '../state/moderation.svelte.ts';
import { NoticesStore } from '../state/notices.svelte.ts';
import type { RoomStores } from '../state/stores.ts';
import { TracksStore } from '../state/tracks.svelte.ts';
import { storage } from '../storage.ts';
import { captureCamera, captureMic, discard, quiet } from './capture.ts';
import { ChatActions } from './chatActions.ts';
import { ConsumerActions } from './consumerActions.ts';
import type { RoomContext } from './context.ts';
import { DeviceActions } from './devices.ts';
import { E2eeActions, startE2ee } from './e2eeActions.ts';
import { FileActions } from './fileActions.ts';
import { bindModeration, ModerationActions } from './moderation.ts';
import { bindNotifications } from './notifications.ts';
import { bindCaptions, CaptionActions } from './captions.ts';
import { RecordingActions } from './recordingActions.svelte.ts';
import { bindRoomLife, RoomLifeActions } from './roomLife.ts';
import { RoomOwnerActions } from './roomOwner.ts';
import { StatsActions } from './stats.ts';
import { MediaRebuilds } from './rebuild.ts';
import { MembershipResume } from './reconnect.ts';
import { exposeForTests } from './testHooks.ts';

/** `removed`: a moderator took us out; `ended`: a moderator ended the meeting. */
export type EndReason = 'left' | 'deleted' | 'shutdown' | 'error' | 'removed' | 'ended';

/** How long a room closed by a server shutdown waits for the server to come back. */
const SHUTDOWN_GRACE_MS = 60_000;

/**
 * The room this tab is in, from join to leave: it builds the stores and action modules the
 * view uses and orchestrates join, media start, `media.restart`, rejoin after a reconnect
 * or server restart, and the end (left, deleted, shut down).
 */
export class RoomSession {
  /** What the room view and its components get (`provideRoom`). */
  readonly context: RoomContext;
  ended = $state<EndReason | null>(null);

  readonly #signaling: Signaling;
  readonly #media: MediaClient;
  readonly #stores: RoomStores;
  readonly #devices: DeviceActions;
  readonly #recording: RecordingActions;
  #off: (() => void)[] = [];
  #password: string | undefined;
  /** The join token this session came in with (rejoins use it again). */
  #token: string | undefined;
  #onEnd: (reason: EndReason, message?: string) => void;
  #giveUp: ReturnType<typeof setTimeout> | undefined;
  /** session.resume after a dropped socket: the token, and whether to try it (reconnect.ts). */
  readonly #resume: MembershipResume;
  /** The media status when the socket dropped: a resume keeps the media, so it comes back. */
  #statusBeforeDrop: RoomStores['local']['status'] | undefined;
  readonly #rebuilds: MediaRebuilds;

  constructor(
    signaling: Signaling,
    joined: JoinResult,
    password: string | undefined,
    onEnd: (reason: EndReason, message?: string) => void,
  ) {
    this.#signaling = signaling;
    this.#password = password;
    this.#onEnd = onEnd;
    const stores: RoomStores = {
      members: new MembersStore(joined.room, joined.self),
      tracks: new TracksStore(),
      chat: new ChatStore(),
      local: new LocalMediaStore(),
      notices: new NoticesStore(),
      life: new RoomLifeStore(),
      moderation: new ModerationStore(),
      captions: new CaptionsStore(),
      e2ee: new E2eeStore(joined.room.e2ee),
    };
    const { members, tracks, chat, local, notices } = stores;
    this.#stores = stores;
    this.#resume = new MembershipResume(signaling, members);
    this.#recording = new RecordingActions(signaling, members);
    this.#applyJoin(joined);
    const media = new MediaClient(signaling, {
      consumerAdded: (info) =>
        tracks.add({
          consumerId: info.id,
          peerId: info.peerId,
          kind: info.kind,
          source: info.source,
          track: info.track,
          producerPaused: info.producerPaused,
        }),
      consumerRemoved: (id) => {
        tracks.remove(id);
        stores.e2ee.remove(id);
      },
      producerChanged: (source, state) => this.#devices.producerChanged(source, state),
      error: (message) => notices.showError(message),
      stalled: () => void this.#rebuilds.run('Media did not connect, retrying…'),
    });
    this.#media = media;
    this.#rebuilds = new MediaRebuilds({
      restart: () => media.restart(),
      connected: () => signaling.state === 'open',
      ended: () => !!this.ended,
      local,
      notices,
    });
    media.ice = iceOf(joined);
    media.e2ee = startE2ee(joined.room, joined.self.id, stores.e2ee);
    this.#devices = new DeviceActions(media, local, notices, () => !!this.ended);
    this.context = {
      ...stores,
      devices: this.#devices,
      chatActions: new ChatActions(signaling, chat),
      files: new FileActions(signaling),
      owner: new RoomOwnerActions(signaling, members, notices, {
        passwordChanged: (p) => (this.#password = p),
        deleted: () => this.#end('deleted', 'You deleted the room.'),
      }),
      stats: new StatsActions(media, tracks, members, local),
      consumers: new ConsumerActions(media),
      lifeActions: new RoomLifeActions(signaling, stores.life),
      moderationActions: new ModerationActions(signaling, stores),
      captionActions: new CaptionActions(signaling, stores.captions, () => members.room.id),
      e2eeActions: new E2eeActions(signaling, media.e2ee, stores.e2ee, joined.e2eeEpoch ?? 0),
      recording: this.#recording,
      leave: () => this.leave(),
    };
    this.#off = [
      ...bindNotifications(signaling, media, stores),
      ...bindRoomLife(signaling, stores.life),
      ...bindModeration(signaling, media, stores, (reason, message) => this.#end(reason, message)),
      ...bindCaptions(signaling, stores.captions),
      ...this.#recording.bind(),
      ...this.context.e2eeActions.bind(),
      ...this.context.chatActions.bind(),
      signaling.on('room.closed', ({ reason }) => this.#closed(reason)),
      signaling.on('media.restart', () => void this.#restartMedia()),
      signaling.on('server.draining', ({ reconnectAfterMs }) => this.#draining(reconnectAfterMs)),
      signaling.onState((state, reconnect) => {
        if (state === 'open' && reconnect && !this.ended) void this.#reconnected();
        if (state === 'disconnected') this.#resume.dropped();
        if (state === 'disconnected' && !this.ended && local.status !== 'restarting') {
          this.#statusBeforeDrop = local.status;
          local.status = 'restarting';
        }
      }),
    ];
  }

  static async join(
    signaling: Signaling,
    roomId: string,
    nickname: string,
    password: string | undefined,
    onEnd: (reason: EndReason, message?: string) => void,
    token?: string,
    lobby: LobbyMedia = {},
  ): Promise<RoomSession> {
    prewarmMedia();
    // The one-reply join: a device loaded with the lobby's router capabilities lets the
    // join answer bring the transports and consumers too (see shortJoin.ts).
    const short = await prepareShortJoin(lobby);
    const joined = await signaling.request('room.join', {
      ...joinData(roomId, nickname, password, token),
      ...(short && { media: shortJoinMedia(short) }),
    });
    let session: RoomSession;
    try {
      session = new RoomSession(signaling, joined, password, onEnd);
    } catch (err) {
      await signaling.request('room.leave', {}).catch(() => undefined);
      throw err;
    }
    session.#token = token;
    exposeForTests(
      session.#media,
      session.#stores.members,
      session.#stores.tracks,
      session.context.moderationActions,
    );
    // Get the media requests on the wire before the room view renders (rendering it takes
    // tens of milliseconds of main thread the server can use to set up our consumers).
    let dispatched: () => void = () => undefined;
    const onWire = new Promise<void>((resolve) => (dispatched = resolve));
    const fromJoin =
      short && joined.room.e2ee === (lobby.e2ee ?? false)
        ? { ...short, media: joined.media }
        : undefined;
    const media = session.#startMedia(
      joined.routerRtpCapabilities,
      storage.autoMedia,
      dispatched,
      fromJoin,
    );
    await Promise.race([onWire, media]);
    return session;
  }

  #applyJoin(joined: JoinResult): void {
    this.#stores.members.reset(joined.room, joined.self, joined.peers);
    this.#stores.chat.merge(joined.history);
    this.#stores.life.reset(joined.game ?? null, joined.hands?.queue ?? []);
    this.#stores.moderation.reset(joined.moderation);
    this.#stores.captions.reset(joined.captions);
    this.#resume.issued(joined.resumeToken);
    this.#recording.store.reset(joined);
  }

  /**
   * Media start: the camera and microphone are captured while the device loads and the
   * transports are created (not in front of them), and published once sending is possible.
   */
  async #startMedia(
    routerRtpCapabilities: JoinResult['routerRtpCapabilities'],
    acquire: boolean,
    onDispatched?: () => void,
    fromJoin?: Parameters<MediaClient['start']>[2],
  ): Promise<void> {
    this.#stores.local.status = 'starting';
    // A one-reply join into a room where others send captures once start() is through (the
    // recv side's ICE checks under way): getUserMedia's answer and the capture start took
    // the main thread in the window where the recv PeerConnection starts gathering.
    const late = acquire && !!fromJoin?.media?.consumers?.length;
    let mic = acquire && !late ? quiet(captureMic()) : null;
    let camera = acquire && !late ? quiet(captureCamera()) : null;
    try {
      await this.#media.start(routerRtpCapabilities, onDispatched, fromJoin);
      this.#stores.local.status = 'ready';
      if (late && !this.ended) [mic, camera] = [quiet(captureMic()), quiet(captureCamera())];
    } catch (err) {
      discard(mic);
      discard(camera);
      if (this.ended) return;
      this.#stores.local.status = 'failed';
      this.#stores.notices.showError(`Media setup failed: ${describe(err)}`);
      return;
    }
    if (mic && camera) {
      // Receive first: while the first remote streams connect and decode, encoding our own
      // camera (3 simulcast layers) competes for the CPU. Capture is already under way.
      if (this.#stores.members.anyoneSending) await this.#media.recvConnected(1000);
      await Promise.all([this.#devices.enableMic(mic), this.#devices.enableCamera(camera)]);
    }
  }

  /**
   * `media.restart` (the room's media moved to another worker), or a resume through another
   * node (our transports stayed on the old one): rebuild on the same tracks.
   */
  #restartMedia(): Promise<void> {
    return this.#rebuilds.run();
  }

  #closed(reason: string): void {
    if (reason === 'deleted') {
      this.#end('deleted', 'The room was deleted by its owner.');
      return;
    }
    // Server shutdown/restart: rooms persist, so stay and rejoin once it is back.
    this.#media.reset();
    this.#stores.tracks.clear();
    this.#stores.local.status = 'restarting';
    this.#stores.notices.add('The server is restarting, reconnecting…');
    this.#waitForServer();
  }

  /**
   * `server.draining`: this node is going away. Reconnect at a random moment within the
   * window (not all members at once) and rejoin: the socket-reconnect path below does it.
   */
  #draining(reconnectAfterMs: number): void {
    if (this.ended) return;
    this.#stores.notices.add('The server is restarting, moving you…');
    this.#signaling.reconnect(Math.random() * Math.max(0, reconnectAfterMs));
    this.#waitForServer();
  }

  /** Ends the session if the server does not take us back within SHUTDOWN_GRACE_MS. */
  #waitForServer(): void {
    clearTimeout(this.#giveUp);
    this.#giveUp = setTimeout(() => {
      if (this.#stores.local.status === 'restarting')
        this.#end('shutdown', 'The server closed the room.');
    }, SHUTDOWN_GRACE_MS);
  }

  /** A new socket: resume the kept membership if the server still has it, else join again. */
  async #reconnected(): Promise<void> {
    const step = await this.#resume.onOpen();
    // `wait`: no verdict on this socket; the next one tries the resume again.
    if (this.ended || step.kind === 'wait') return;
    if (step.kind === 'join') return this.#rejoin(); // The membership is gone: join again.
    this.#stores.notices.add('Reconnected');
    const caughtUp = this.context.chatActions.caughtUp().catch(() => undefined);
    // Another node took the membership over (our transports stayed on the old one), or
    // a rebuild was under way when the last socket went (rebuild.ts).
    if (step.rebuildMedia || this.#rebuilds.owed) await this.#restartMedia();
    else {
      const local = this.#stores.local;
      if (local.status === 'restarting') local.status = this.#statusBeforeDrop ?? 'ready';
    }
    await caughtUp;
  }

  async #rejoin(): Promise<void> {
    // The signaling connection was re-established (server restart or network drop): the
    // server no longer knows this tab, so join again and rebuild media on the same tracks.
    this.#media.reset();
    this.#stores.tracks.clear();
    this.#rebuilds.cancel();
    try {
      const joined = await this.#signaling.request(
        'room.join',
        joinData(
          this.#stores.members.room.id,
          this.#stores.members.self.nickname,
          this.#password,
          this.#token,
        ),
      );
      this.#applyJoin(joined);
      this.#media.ice = iceOf(joined); // Fresh TURN credentials.
      if (this.#media.e2ee) this.#media.e2ee.selfId = joined.self.id; // Keys follow the member id.
      this.context.e2eeActions.joined(joined.e2eeEpoch);
      this.#stores.notices.add('Reconnected');
      await this.#media.start(joined.routerRtpCapabilities);
      this.#stores.local.status = 'ready';
      clearTimeout(this.#giveUp);
      this.#giveUp = undefined;
      void this.context.chatActions.outbox.flush();
    } catch (err) {
      // A node that began draining while we reconnected: try again (another node, or this
      // one restarted) while the shutdown grace lasts.
      if (errorCodeOf(err) === 'DRAINING' && !this.ended) {
        this.#stores.local.status = 'restarting';
        if (this.#giveUp === undefined) this.#waitForServer();
        this.#signaling.reconnect(1000);
        return;
      }
      this.#end('error', `Lost the room: ${errorText(err)}`);
    }
  }

  async leave(): Promise<void> {
    if (this.ended) return;
    await this.#signaling.request('room.leave', {}).catch(() => undefined);
    this.#end('left');
  }

  #end(reason: EndReason, message?: string): void {
    if (this.ended) return;
    this.ended = reason;
    clearTimeout(this.#giveUp);
    for (const off of this.#off) off();
    this.#off = [];
    this.context.chatActions.outbox.close();
    this.#media.close();
    this.#media.e2ee?.close();
    this.#stores.notices.close();
    this.#onEnd(reason, message);
  }
}

/** room.join's data: the owner secret (if we created the room) makes us its owner. */
export function joinData(
  roomId: string,
  nickname: string,
  password: string | undefined,
  token?: string,
): RequestData<'room.join'> {
  const ownerSecret = storage.ownerSecret(roomId);
  return {
    roomId,
    nickname,
    ...(password ? { password } : {}),
    ...(ownerSecret ? { ownerSecret } : {}),
    ...(token ? { token } : {}),
  };
}

/** The join answer's ICE part (TURN credentials were minted for this join). */
function iceOf(joined: JoinResult): IceSettings {
  return { iceServers: joined.iceServers, iceTransportPolicy: joined.iceTransportPolicy };
}
