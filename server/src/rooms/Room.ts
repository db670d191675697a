import { EventEmitter } from 'node:events';
import type {
  ActiveSpeakerObserver,
  AudioLevelObserver,
  Consumer,
  MediaKind,
  Producer,
  Router,
  RtpCapabilities,
  RtpParameters,
  WebRtcTransport,
} from 'mediasoup/types';
import type { Config } from '@tutti/config';
import { mediaCodecs, webRtcTransportOptions, type WorkerPool } from '@tutti/media-workers';
import {
  TuttiError,
  type MediaSource,
  type NotificationMap,
  type NotificationMethod,
  type PeerInfo,
  type RoomSummary,
  type TransportOptions,
} from '@tutti/protocol';
import type { RoomRecord } from '../store/RoomStore.ts';
import {
  prepareNotification,
  type MemberChannel as Peer,
  type PreparedNotification,
} from './ports.ts';
import { dedupNickname } from './security.ts';

export interface RoomLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface RoomDeps {
  config: Config;
  pool: WorkerPool;
  log: RoomLogger;
}

type Direction = 'send' | 'recv';

interface TransportAppData extends Record<string, unknown> {
  direction: Direction;
  peerId: string;
}

interface ProducerAppData extends Record<string, unknown> {
  source: MediaSource;
  peerId: string;
}

interface ConsumerAppData extends Record<string, unknown> {
  source: MediaSource;
  peerId: string;
  producerId: string;
}

interface PeerMedia {
  rtpCapabilities: RtpCapabilities | undefined;
  transports: Map<string, WebRtcTransport<TransportAppData>>;
  producers: Map<string, Producer<ProducerAppData>>;
  consumers: Map<string, Consumer<ConsumerAppData>>;
  /** Producer ids a consumer is being created for (dedups concurrent attempts). */
  consuming: Set<string>;
}

interface Member {
  peer: Peer;
  info: PeerInfo;
  media: PeerMedia;
}

interface MediaState {
  router: Router;
  activeSpeaker: ActiveSpeakerObserver;
  audioLevels: AudioLevelObserver;
}

export interface RoomEvents {
  /** Membership or metadata changed (the lobby list needs a refresh). */
  changed: [];
  /** The last member left. */
  empty: [];
  /** A member left (leave, disconnect, kick, room closing). */
  peerLeft: [peer: Peer];
}

const SOURCE_KIND: Record<MediaSource, MediaKind> = {
  mic: 'audio',
  camera: 'video',
  screen: 'video',
  'screen-audio': 'audio',
};

const freshMedia = (): PeerMedia => ({
  rtpCapabilities: undefined,
  transports: new Map(),
  producers: new Map(),
  consumers: new Map(),
  consuming: new Set(),
});

/**
 * The mediator of one conference (mediasoup-demo's Room, typed): owns the members, their
 * transports/producers/consumers, the router and the RTP observers, and enforces the rules.
 * The router exists only while someone is inside; when its worker dies the media is
 * re-created on a live worker and members are told to redo theirs (`media.restart`).
 */
export class Room extends EventEmitter<RoomEvents> {
  record: RoomRecord;
  readonly #deps: RoomDeps;
  readonly #members = new Map<string, Member>();
  #media: MediaState | undefined;
  #mediaPromise: Promise<MediaState> | undefined;
  /** Joins between password check and admission; keeps the router from being closed under them. */
  #pendingJoins = 0;
  #closed = false;
  /** The dominant speaker (ActiveSpeakerObserver) and the mic producer it was detected on. */
  #speaker: { peerId: string; producerId: string } | undefined;

  constructor(record: RoomRecord, deps: RoomDeps) {
    super();
    this.record = record;
    this.#deps = deps;
  }

  get id(): string {
    return this.record.id;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get size(): number {
    return this.#members.size;
  }

  /** Effective capacity: the room's own, bounded by config.rooms.maxCapacity. */
  get capacity(): number {
    return Math.min(this.record.capacity ?? Infinity, this.#deps.config.rooms.maxCapacity);
  }

  get routerWorkerPid(): number | undefined {
    return this.#media ? (this.#media.router.appData.workerPid as number | undefined) : undefined;
  }

  summary(): RoomSummary {
    return {
      id: this.record.id,
      name: this.record.name,
      peers: this.#members.size,
      capacity: this.record.capacity,
      locked: this.record.passwordHash !== null,
      createdAt: this.record.createdAt,
    };
  }

  peers(): PeerInfo[] {
    return [...this.#members.values()].map((m) => ({ ...m.info }));
  }

  hasPeer(peerId: string): boolean {
    return this.#members.has(peerId);
  }

  /** The signaling Peer of a member (for other concerns, e.g. private chat). */
  getPeer(peerId: string): Peer | undefined {
    return this.#members.get(peerId)?.peer;
  }

  peerInfo(peerId: string): PeerInfo | undefined {
    const m = this.#members.get(peerId);
    return m ? { ...m.info } : undefined;
  }

  broadcast<M extends NotificationMethod>(
    method: M,
    data: NotificationMap[M],
    exceptPeerId?: string,
  ): void {
    // Serialized once for every recipient.
    let prepared: PreparedNotification<M> | undefined;
    for (const m of this.#members.values()) {
      if (m.peer.id === exceptPeerId) continue;
      prepared ??= prepareNotification(method, data);
      void m.peer.notifyPrepared(prepared);
    }
  }

  // ── Membership ──────────────────────────────────────────────────────────────────────

  beginJoin(): () => void {
    this.#pendingJoins++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#pendingJoins--;
      if (this.#members.size === 0 && this.#pendingJoins === 0) this.#closeMedia();
    };
  }

  /** Capacity check + nickname de-dup + insertion, synchronously (no race between joins). */
  admit(peer: Peer, nickname: string): PeerInfo {
    if (this.#closed) throw new TuttiError('ROOM_NOT_FOUND', 'room not found');
    if (this.#members.size >= this.capacity) {
      throw new TuttiError('ROOM_FULL', `room is full (${this.capacity} people)`);
    }
    const name = dedupNickname(
      nickname,
      [...this.#members.values()].map((m) => m.info.nickname),
    );
    const info: PeerInfo = {
      id: peer.id,
      nickname: name,
      mic: 'none',
      camera: 'none',
      screen: false,
      joinedAt: Date.now(),
    };
    this.#members.set(peer.id, { peer, info, media: freshMedia() });
    this.broadcast('room.peerJoined', { peer: { ...info } }, peer.id);
    this.emit('changed');
    return { ...info };
  }

  /** Removes a member (leave, disconnect, kick). Idempotent. */
  remove(peerId: string): boolean {
    const member = this.#members.get(peerId);
    if (!member) return false;
    this.#members.delete(peerId);
    // Closing transports closes the member's producers, whose consumers then close
    // (and the other members get media.consumerClosed).
    for (const t of member.media.transports.values()) t.close();
    this.broadcast('room.peerLeft', { peerId, nickname: member.info.nickname });
    this.emit('peerLeft', member.peer);
    if (this.#members.size === 0) {
      if (this.#pendingJoins === 0) this.#closeMedia();
      this.emit('empty');
    }
    this.emit('changed');
    return true;
  }

  /**
   * Tells every member the room is gone, then disconnects them (except `keepSocketOf`).
   * Resolves once the notifications were flushed (bounded wait).
   */
  async close(reason: 'deleted' | 'shutdown', keepSocketOf?: string): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const members = [...this.#members.values()];
    const sent = members.map((m) => m.peer.notify('room.closed', { reason }));
    await Promise.race([Promise.allSettled(sent), sleep(1000)]);
    for (const m of members) {
      this.remove(m.peer.id);
      // The caller disconnects `keepSocketOf` itself, after answering its request.
      if (m.peer.id !== keepSocketOf) m.peer.close();
    }
    this.#closeMedia();
    this.removeAllListeners();
  }

  // ── Router lifecycle ────────────────────────────────────────────────────────────────

  /** The room's router (created on the least-loaded worker on first use). */
  async ensureRouter(): Promise<Router> {
    if (this.#media && !this.#media.router.closed) return this.#media.router;
    this.#mediaPromise ??= this.#createMedia().finally(() => {
      this.#mediaPromise = undefined;
    });
    try {
      return (await this.#mediaPromise).router;
    } catch (err) {
      // A room closed meanwhile (deleted, server shutting down) is not a failure.
      if (!this.#closed) this.#deps.log.error({ err, roomId: this.id }, 'could not create router');
      throw new TuttiError('MEDIA_UNAVAILABLE', 'media server unavailable, try again shortly');
    }
  }

  async #createMedia(): Promise<MediaState> {
    const router = await this.#deps.pool.createRouter({
      mediaCodecs,
      appData: { roomId: this.id },
    });
    const workerPid = router.appData.workerPid as number;
    const activeSpeaker = await router.createActiveSpeakerObserver({ interval: 300 });
    const audioLevels = await router.createAudioLevelObserver({
      maxEntries: 10,
      threshold: -80,
      interval: 800,
    });
    const state: MediaState = { router, activeSpeaker, audioLevels };

    activeSpeaker.on('dominantspeaker', ({ producer }) => {
      if (this.#media !== state || producer.closed) return;
      const peerId = (producer.appData as ProducerAppData).peerId;
      if (!this.#members.has(peerId)) return;
      this.#speaker = { peerId, producerId: producer.id };
      this.broadcast('media.activeSpeaker', { peerId });
    });
    audioLevels.on('volumes', (volumes) => {
      this.broadcast('media.audioLevels', {
        levels: volumes.map((v) => ({
          peerId: (v.producer.appData as ProducerAppData).peerId,
          volume: v.volume,
        })),
      });
    });
    audioLevels.on('silence', () => this.broadcast('media.audioLevels', { levels: [] }));
    router.on('workerclose', () => void this.#onWorkerClosed(router));

    if (this.#closed || (this.#members.size === 0 && this.#pendingJoins === 0)) {
      // Nobody needs it any more.
      router.close();
      throw new Error('room closed while creating its router');
    }
    this.#media = state;
    this.#deps.log.info({ roomId: this.id, workerPid }, 'router created');
    return state;
  }

  #closeMedia(): void {
    const media = this.#media;
    this.#media = undefined;
    this.#speaker = undefined;
    if (media && !media.router.closed) media.router.close();
  }

  async #onWorkerClosed(router: Router): Promise<void> {
    // A closed room (shutdown closes rooms before the workers) has nothing to move.
    if (this.#closed || this.#media?.router !== router) return;
    this.#media = undefined;
    this.#speaker = undefined;
    this.#deps.log.warn({ roomId: this.id }, 'worker of this room died, moving its media');
    // Everything media died with the worker; start every member from scratch.
    for (const m of this.#members.values()) {
      m.media = freshMedia();
      const changed = m.info.mic !== 'none' || m.info.camera !== 'none' || m.info.screen;
      m.info.mic = 'none';
      m.info.camera = 'none';
      m.info.screen = false;
      if (changed) this.broadcast('room.peerUpdated', { peer: { ...m.info } });
    }
    if (this.#closed || this.#members.size === 0) return;
    try {
      await this.ensureRouter();
    } catch {
      // ensureRouter logged it; members get media.restart anyway and retry themselves.
    }
    this.broadcast('media.restart', { reason: 'worker-died' });
  }

  // ── Media ───────────────────────────────────────────────────────────────────────────

  #member(peerId: string): Member {
    const m = this.#members.get(peerId);
    if (!m) throw new TuttiError('NOT_JOINED', 'join a room first');
    return m;
  }

  /**
   * Whether `member` is still in the room with the same media generation. Checked after
   * every await: the peer may have left (and even re-joined under the same peer id, as a
   * new Member) or the media may have restarted meanwhile.
   */
  #isCurrent(member: Member, media: PeerMedia): boolean {
    return this.#members.get(member.peer.id) === member && member.media === media;
  }

  async rtpCapabilities(peerId: string): Promise<RtpCapabilities> {
    this.#member(peerId);
    return (await this.ensureRouter()).rtpCapabilities;
  }

  async createTransport(
    peerId: string,
    direction: Direction,
    forceTcp = false,
  ): Promise<TransportOptions> {
    const member = this.#member(peerId);
    const router = await this.ensureRouter();
    const media = member.media;
    // One transport per direction: a new one (after media.restart or a client retry) replaces the old.
    for (const t of media.transports.values()) {
      if (t.appData.direction === direction) t.close();
    }
    const { config } = this.#deps;
    const transport = await router.createWebRtcTransport<TransportAppData>({
      ...webRtcTransportOptions(config.media, { forceTcp }),
      appData: { direction, peerId },
    });
    if (!this.#isCurrent(member, media)) {
      // Left (maybe re-joined), or the media restarted, while we were creating it.
      transport.close();
      throw new TuttiError('NOT_JOINED', 'no longer in the room');
    }
    // Concurrent requests for the same direction: the newest wins, the others close.
    for (const t of media.transports.values()) {
      if (t.appData.direction === direction) t.close();
    }
    media.transports.set(transport.id, transport);
    transport.observer.once('close', () => media.transports.delete(transport.id));
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') {
        this.#deps.log.warn(
          { roomId: this.id, peerId, transportId: transport.id, state },
          'transport DTLS state',
        );
      }
    });
    transport.on('icestatechange', (state) => {
      this.#deps.log.debug(
        { roomId: this.id, peerId, transportId: transport.id, state },
        'transport ICE state',
      );
    });
    if (direction === 'send') {
      await transport.setMaxIncomingBitrate(config.media.maxIncomingBitrate).catch(() => {});
    } else if (media.rtpCapabilities) {
      // media.ready came first (or this replaces a recv transport): consume everything now.
      setImmediate(() => this.#consumeAll(member));
    }
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  #transport(member: Member, transportId: string): WebRtcTransport<TransportAppData> {
    const t = member.media.transports.get(transportId);
    if (!t) throw new TuttiError('NOT_FOUND', 'transport not found');
    return t;
  }

  async connectTransport(
    peerId: string,
    transportId: string,
    dtlsParameters: Parameters<WebRtcTransport['connect']>[0]['dtlsParameters'],
  ): Promise<void> {
    const t = this.#transport(this.#member(peerId), transportId);
    await mediasoupCall(() => t.connect({ dtlsParameters }));
  }

  async restartIce(peerId: string, transportId: string) {
    const t = this.#transport(this.#member(peerId), transportId);
    return mediasoupCall(() => t.restartIce());
  }

  /** The client's device is loaded: remember its capabilities and consume everything there is. */
  async ready(peerId: string, rtpCapabilities: RtpCapabilities): Promise<void> {
    const member = this.#member(peerId);
    await this.ensureRouter();
    if (this.#members.get(peerId) !== member) {
      throw new TuttiError('NOT_JOINED', 'no longer in the room');
    }
    member.media.rtpCapabilities = rtpCapabilities;
    this.#consumeAll(member);
    // media.activeSpeaker is sent on changes only: tell a newcomer who is speaking now.
    if (this.#speaker)
      void member.peer.notify('media.activeSpeaker', { peerId: this.#speaker.peerId });
  }

  /** Creates consumers for every producer of the other members (skips ones it already has). */
  #consumeAll(member: Member): void {
    if (this.#members.get(member.peer.id) !== member) return;
    for (const other of this.#members.values()) {
      if (other === member) continue;
      for (const producer of other.media.producers.values()) {
        this.#startConsumer(member, other, producer);
      }
    }
  }

  async produce(
    peerId: string,
    args: {
      transportId: string;
      kind: MediaKind;
      rtpParameters: RtpParameters;
      source: MediaSource;
      paused?: boolean | undefined;
    },
  ): Promise<string> {
    const member = this.#member(peerId);
    if (SOURCE_KIND[args.source] !== args.kind) {
      throw new TuttiError(
        'INVALID_REQUEST',
        `source "${args.source}" must be ${SOURCE_KIND[args.source]}`,
      );
    }
    const transport = this.#transport(member, args.transportId);
    if (transport.appData.direction !== 'send') {
      throw new TuttiError('INVALID_REQUEST', 'produce needs a send transport');
    }
    // One producer per source: a new one replaces the old (re-sharing, device switch).
    for (const p of member.media.producers.values()) {
      if (p.appData.source === args.source) {
        p.close();
        member.media.producers.delete(p.id);
      }
    }
    const media = member.media;
    const producer = await mediasoupCall(() =>
      transport.produce<ProducerAppData>({
        kind: args.kind,
        rtpParameters: args.rtpParameters,
        paused: args.paused ?? false,
        appData: { source: args.source, peerId },
      }),
    );
    if (!this.#isCurrent(member, media)) {
      producer.close();
      throw new TuttiError('NOT_JOINED', 'no longer in the room');
    }
    // Concurrent requests for the same source (a quick device switch): the newest wins.
    for (const p of media.producers.values()) {
      if (p.appData.source === args.source) {
        p.close();
        media.producers.delete(p.id);
      }
    }
    media.producers.set(producer.id, producer);
    const onGone = () => {
      if (this.#speaker?.producerId === producer.id) {
        // The dominant speaker's mic went away (closed, speaker left, worker died).
        this.#speaker = undefined;
        this.broadcast('media.activeSpeaker', { peerId: null });
      }
      if (media.producers.delete(producer.id)) this.#refreshState(member);
    };
    producer.on('transportclose', onGone);
    producer.observer.once('close', onGone);
    producer.on('score', (scores) => {
      const score = scores.reduce((max, s) => Math.max(max, s.score), 0);
      void member.peer.notify('media.producerScore', { producerId: producer.id, score });
    });

    if (args.source === 'mic' && this.#media) {
      const { activeSpeaker, audioLevels } = this.#media;
      await activeSpeaker.addProducer({ producerId: producer.id }).catch(() => {});
      await audioLevels.addProducer({ producerId: producer.id }).catch(() => {});
    }
    this.#refreshState(member);
    for (const other of this.#members.values()) {
      if (other !== member) this.#startConsumer(other, member, producer);
    }
    return producer.id;
  }

  #producer(member: Member, producerId: string): Producer<ProducerAppData> {
    const p = member.media.producers.get(producerId);
    if (!p) throw new TuttiError('NOT_FOUND', 'producer not found');
    return p;
  }

  closeProducer(peerId: string, producerId: string): void {
    const member = this.#member(peerId);
    const p = this.#producer(member, producerId);
    p.close();
    member.media.producers.delete(producerId);
    this.#refreshState(member);
  }

  async pauseProducer(peerId: string, producerId: string, pause: boolean): Promise<void> {
    const member = this.#member(peerId);
    const p = this.#producer(member, producerId);
    await whileOpen(p, 'producer', () => (pause ? p.pause() : p.resume()));
    this.#refreshState(member);
  }

  #consumer(member: Member, consumerId: string): Consumer<ConsumerAppData> {
    const c = member.media.consumers.get(consumerId);
    if (!c) throw new TuttiError('NOT_FOUND', 'consumer not found');
    return c;
  }

  async pauseConsumer(peerId: string, consumerId: string, pause: boolean): Promise<void> {
    const c = this.#consumer(this.#member(peerId), consumerId);
    await whileOpen(c, 'consumer', () => (pause ? c.pause() : c.resume()));
  }

  async setConsumerPreferredLayers(
    peerId: string,
    consumerId: string,
    spatialLayer: number,
    temporalLayer: number | undefined,
  ): Promise<void> {
    const c = this.#consumer(this.#member(peerId), consumerId);
    if (c.type !== 'simulcast' && c.type !== 'svc') return; // Nothing to choose from.
    await whileOpen(c, 'consumer', () =>
      c.setPreferredLayers(
        temporalLayer === undefined ? { spatialLayer } : { spatialLayer, temporalLayer },
      ),
    );
  }

  async getStats(
    peerId: string,
    kind: 'transport' | 'producer' | 'consumer',
    id: string,
  ): Promise<unknown[]> {
    const member = this.#member(peerId);
    switch (kind) {
      case 'transport':
        return this.#transport(member, id).getStats();
      case 'producer':
        return this.#producer(member, id).getStats();
      case 'consumer':
        return this.#consumer(member, id).getStats();
    }
  }

  /** Recomputes a member's mic/camera/screen state from its producers and tells everyone. */
  #refreshState(member: Member): void {
    if (this.#members.get(member.peer.id) !== member) return;
    const bySource = new Map<MediaSource, Producer<ProducerAppData>>();
    for (const p of member.media.producers.values()) {
      if (!p.closed) bySource.set(p.appData.source, p);
    }
    const state = (s: MediaSource): 'on' | 'off' | 'none' => {
      const p = bySource.get(s);
      return p ? (p.paused ? 'off' : 'on') : 'none';
    };
    const next = { mic: state('mic'), camera: state('camera'), screen: bySource.has('screen') };
    const info = member.info;
    if (info.mic === next.mic && info.camera === next.camera && info.screen === next.screen) return;
    Object.assign(info, next);
    this.broadcast('room.peerUpdated', { peer: { ...info } });
  }

  /** Fire-and-forget consumer creation: a failure is logged, never an unhandled rejection. */
  #startConsumer(
    consumerMember: Member,
    producerMember: Member,
    producer: Producer<ProducerAppData>,
  ): void {
    this.#createConsumer(consumerMember, producerMember, producer).catch((err: unknown) => {
      this.#deps.log.error(
        { err, roomId: this.id, peerId: consumerMember.peer.id, producerId: producer.id },
        'could not create consumer',
      );
    });
  }

  async #createConsumer(
    consumerMember: Member,
    producerMember: Member,
    producer: Producer<ProducerAppData>,
  ): Promise<void> {
    const media = consumerMember.media;
    if (media.consuming.has(producer.id)) return;
    media.consuming.add(producer.id);
    try {
      await this.#consume(consumerMember, media, producerMember, producer);
    } finally {
      media.consuming.delete(producer.id);
    }
  }

  async #consume(
    consumerMember: Member,
    media: PeerMedia,
    producerMember: Member,
    producer: Producer<ProducerAppData>,
  ): Promise<void> {
    const router = this.#media?.router;
    const caps = media.rtpCapabilities;
    if (!router || !caps || producer.closed) return;
    for (const c of media.consumers.values()) {
      if (c.producerId === producer.id) return; // Already consuming it.
    }
    let canConsume: boolean;
    try {
      canConsume = router.canConsume({ producerId: producer.id, rtpCapabilities: caps });
    } catch {
      canConsume = false;
    }
    if (!canConsume) return;
    const transport = [...media.transports.values()].find((t) => t.appData.direction === 'recv');
    if (!transport) return;

    let consumer: Consumer<ConsumerAppData>;
    try {
      consumer = await transport.consume<ConsumerAppData>({
        producerId: producer.id,
        rtpCapabilities: caps,
        paused: true,
        enableRtx: true,
        ignoreDtx: true,
        appData: {
          source: producer.appData.source,
          peerId: producerMember.peer.id,
          producerId: producer.id,
        },
      });
    } catch (err) {
      this.#deps.log.warn({ err, roomId: this.id }, 'consume failed');
      return;
    }
    if (!this.#isCurrent(consumerMember, media) || producer.closed) {
      // The consumer left/re-joined, or the producer closed while we were consuming it.
      consumer.close();
      return;
    }
    media.consumers.set(consumer.id, consumer);
    const peer = consumerMember.peer;
    /**
     * Until the client answered media.newConsumer it has no consumer with this id (its
     * recvTransport.consume() is still running) and would drop notifications about it:
     * a close or a pause/resume of the producer in that window is told after the answer.
     */
    let answered = false;
    let closedUnanswered = false;
    const tellClosed = () => {
      if (this.#isCurrent(consumerMember, media)) {
        void peer.notify('media.consumerClosed', { consumerId: consumer.id });
      }
    };
    const gone = (notify: boolean) => {
      if (!media.consumers.delete(consumer.id)) return;
      if (!notify) return;
      if (answered) tellClosed();
      else closedUnanswered = true;
    };
    consumer.on('transportclose', () => gone(false));
    consumer.on('producerclose', () => gone(true));
    consumer.observer.once('close', () => gone(false));
    consumer.on('producerpause', () => {
      if (answered) void peer.notify('media.consumerPaused', { consumerId: consumer.id });
    });
    consumer.on('producerresume', () => {
      if (answered) void peer.notify('media.consumerResumed', { consumerId: consumer.id });
    });
    consumer.on(
      'score',
      (s) =>
        void peer.notify('media.consumerScore', {
          consumerId: consumer.id,
          score: s.score,
          producerScore: s.producerScore,
        }),
    );
    consumer.on(
      'layerschange',
      (layers) =>
        void peer.notify('media.consumerLayersChanged', {
          consumerId: consumer.id,
          spatialLayer: layers?.spatialLayer ?? null,
          temporalLayer: layers?.temporalLayer ?? null,
        }),
    );

    const announcedPaused = consumer.producerPaused;
    try {
      await peer.request('media.newConsumer', {
        id: consumer.id,
        producerId: producer.id,
        peerId: producerMember.peer.id,
        kind: consumer.kind,
        source: producer.appData.source,
        rtpParameters: consumer.rtpParameters,
        type: consumer.type,
        producerPaused: announcedPaused,
      });
      answered = true;
      if (closedUnanswered) {
        tellClosed();
        return;
      }
      if (consumer.closed) return;
      if (consumer.producerPaused !== announcedPaused) {
        void peer.notify(
          consumer.producerPaused ? 'media.consumerPaused' : 'media.consumerResumed',
          { consumerId: consumer.id },
        );
      }
      await consumer.resume();
    } catch (err) {
      // Either the client refused it, or the producer went away while we were waiting
      // (resume then fails). In the latter case the client has it and must drop it.
      this.#deps.log.debug({ err, roomId: this.id, peerId: peer.id }, 'consumer not started');
      const wasOurs = media.consumers.has(consumer.id);
      if (!consumer.closed) consumer.close();
      gone(false);
      if (answered && wasOurs) tellClosed();
    }
  }
}

/**
 * Runs a worker call on a producer/consumer that may close while it runs (its producer
 * closed, its transport was replaced, the member left, the worker died): the object is
 * gone then — NOT_FOUND, like asking for an unknown id — rather than an internal error.
 */
async function whileOpen(
  obj: { readonly closed: boolean },
  what: 'producer' | 'consumer',
  fn: () => Promise<void>,
): Promise<void> {
  try {
    await fn();
  } catch (err) {
    // The worker may answer "not found" before its close notification reached us; a dead
    // worker aborts pending requests. Both mean the object is gone.
    const gone =
      err instanceof Error && (err.name === 'NotFoundError' || err.name === 'WorkerClosedError');
    if (obj.closed || gone) throw new TuttiError('NOT_FOUND', `${what} not found`);
    throw err;
  }
}

/** mediasoup rejects bad client input with TypeError/Error; surface it as INVALID_REQUEST. */
async function mediasoupCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TuttiError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new TuttiError('INVALID_REQUEST', msg.slice(0, 300));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
