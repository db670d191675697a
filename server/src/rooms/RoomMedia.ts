import type { ActiveSpeakerObserver, AudioLevelObserver, Producer, Router } from 'mediasoup/types';
import { mediaCodecs, type WorkerPool } from '@tutti/media-workers';
import { TuttiError, type NotificationMap, type NotificationMethod } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { ProducerAppData } from './mediaTypes.ts';

/** What the room's media needs to know of the room (the Room implements it). */
export interface RoomMediaHost {
  readonly closed: boolean;
  /** Members inside (joins still in progress not counted). */
  readonly size: number;
  /** Joins between the password check and admission: their router must not close under them. */
  readonly pendingJoins: number;
  hasMember(memberId: string): boolean;
  broadcast<M extends NotificationMethod>(method: M, data: NotificationMap[M]): void;
  /** The worker died with every transport on it: members start their media from scratch. */
  mediaLost(): void;
}

interface MediaState {
  router: Router;
  activeSpeaker: ActiveSpeakerObserver;
  audioLevels: AudioLevelObserver;
}

/**
 * The media side of one room: its router, the speaker and level observers, and moving to a
 * live worker when the router's worker dies. The router exists only while someone is inside.
 * Members reach a router only through routerFor(): today every member of a room shares one;
 * a room spread over several routers (piped together) changes this class, not the members.
 */
export class RoomMedia {
  readonly #host: RoomMediaHost;
  readonly #pool: WorkerPool;
  readonly #roomId: string;
  readonly #log: Logger;
  #state: MediaState | undefined;
  #creating: Promise<MediaState> | undefined;
  /** The dominant speaker (ActiveSpeakerObserver) and the mic producer it was detected on. */
  #speaker: { peerId: string; producerId: string } | undefined;

  constructor(opts: { host: RoomMediaHost; pool: WorkerPool; roomId: string; log: Logger }) {
    this.#host = opts.host;
    this.#pool = opts.pool;
    this.#roomId = opts.roomId;
    this.#log = opts.log;
  }

  /** The pid of the worker hosting the router, if there is one. */
  get workerPid(): number | undefined {
    return this.#state ? (this.#state.router.appData.workerPid as number | undefined) : undefined;
  }

  /** Who is speaking now (media.activeSpeaker is sent on changes only: newcomers ask). */
  get speaker(): string | undefined {
    return this.#speaker?.peerId;
  }

  /**
   * The router serving `memberId` (a newcomer too), created on the least-loaded worker on
   * first use. Throws MEDIA_UNAVAILABLE.
   */
  routerFor(_memberId: string): Promise<Router> {
    return this.#ensureRouter();
  }

  /** The router serving `memberId` if it exists now (consumers are made on a live one only). */
  currentRouterFor(_memberId: string): Router | undefined {
    return this.#state?.router;
  }

  async #ensureRouter(): Promise<Router> {
    if (this.#state && !this.#state.router.closed) return this.#state.router;
    this.#creating ??= this.#create().finally(() => {
      this.#creating = undefined;
    });
    try {
      return (await this.#creating).router;
    } catch (err) {
      // A room closed meanwhile (deleted, server shutting down) is not a failure.
      if (!this.#host.closed) this.#log.error({ err }, 'could not create router');
      throw new TuttiError('MEDIA_UNAVAILABLE', 'media server unavailable, try again shortly');
    }
  }

  /** A new mic: the speaker and level observers listen to it. */
  async observeMic(producer: Producer<ProducerAppData>): Promise<void> {
    if (!this.#state) return;
    const { activeSpeaker, audioLevels } = this.#state;
    await activeSpeaker.addProducer({ producerId: producer.id }).catch(() => {});
    await audioLevels.addProducer({ producerId: producer.id }).catch(() => {});
  }

  /** A producer closed (its member left, the worker died…): it may have been the speaker's mic. */
  producerGone(producerId: string): void {
    if (this.#speaker?.producerId !== producerId) return;
    this.#speaker = undefined;
    this.#host.broadcast('media.activeSpeaker', { peerId: null });
  }

  /** Closes the router (nobody inside any more, or the room closed). */
  close(): void {
    const state = this.#state;
    this.#state = undefined;
    this.#speaker = undefined;
    if (state && !state.router.closed) state.router.close();
  }

  async #create(): Promise<MediaState> {
    const router = await this.#pool.createRouter({
      mediaCodecs,
      appData: { roomId: this.#roomId },
    });
    const workerPid = router.appData.workerPid as number;
    const activeSpeaker = await router.createActiveSpeakerObserver({ interval: 300 });
    const audioLevels = await router.createAudioLevelObserver({
      maxEntries: 10,
      threshold: -80,
      interval: 800,
    });
    const state: MediaState = { router, activeSpeaker, audioLevels };
    const host = this.#host;

    activeSpeaker.on('dominantspeaker', ({ producer }) => {
      if (this.#state !== state || producer.closed) return;
      const peerId = (producer.appData as ProducerAppData).peerId;
      if (!host.hasMember(peerId)) return;
      this.#speaker = { peerId, producerId: producer.id };
      host.broadcast('media.activeSpeaker', { peerId });
    });
    audioLevels.on('volumes', (volumes) => {
      host.broadcast('media.audioLevels', {
        levels: volumes.map((v) => ({
          peerId: (v.producer.appData as ProducerAppData).peerId,
          volume: v.volume,
        })),
      });
    });
    audioLevels.on('silence', () => host.broadcast('media.audioLevels', { levels: [] }));
    router.on('workerclose', () => void this.#onWorkerClosed(router));

    if (host.closed || (host.size === 0 && host.pendingJoins === 0)) {
      // Nobody needs it any more.
      router.close();
      throw new Error('room closed while creating its router');
    }
    this.#state = state;
    this.#log.info({ workerPid }, 'router created');
    return state;
  }

  async #onWorkerClosed(router: Router): Promise<void> {
    // A closed room (shutdown closes rooms before the workers) has nothing to move.
    if (this.#host.closed || this.#state?.router !== router) return;
    this.#state = undefined;
    this.#speaker = undefined;
    this.#log.warn({}, 'worker of this room died, moving its media');
    // Everything media died with the worker; start every member from scratch.
    this.#host.mediaLost();
    if (this.#host.closed || this.#host.size === 0) return;
    try {
      await this.#ensureRouter();
    } catch {
      // #ensureRouter logged it; members get media.restart anyway and retry themselves.
    }
    this.#host.broadcast('media.restart', { reason: 'worker-died' });
  }
}
