import type { ActiveSpeakerObserver, AudioLevelObserver, Producer, Router } from 'mediasoup/types';
import type { ProducerAppData } from './mediaTypes.ts';
import type { ProducerPipes, Reached } from './pipes.ts';

export interface SpeakerEvents {
  dominant(producer: Producer<ProducerAppData>): void;
  levels(levels: { peerId: string; volume: number }[]): void;
}

/**
 * The room-wide ActiveSpeakerObserver + AudioLevelObserver, on one router of the room: every
 * mic, wherever it was produced, is piped to that router and seen by these two observers
 * (one observer per room, so no duplicate or missing dominant-speaker events).
 */
export class SpeakerObservers {
  readonly router: Router;
  readonly #activeSpeaker: ActiveSpeakerObserver;
  readonly #audioLevels: AudioLevelObserver;
  readonly #pipes: ProducerPipes;
  /** Mics by the id observed here (a pipe producer's id may differ from the mic's). */
  readonly #mics = new Map<string, Producer<ProducerAppData>>();
  #closed = false;

  private constructor(
    router: Router,
    activeSpeaker: ActiveSpeakerObserver,
    audioLevels: AudioLevelObserver,
    pipes: ProducerPipes,
  ) {
    this.router = router;
    this.#activeSpeaker = activeSpeaker;
    this.#audioLevels = audioLevels;
    this.#pipes = pipes;
  }

  static async create(
    router: Router,
    pipes: ProducerPipes,
    events: SpeakerEvents,
  ): Promise<SpeakerObservers> {
    const activeSpeaker = await router.createActiveSpeakerObserver({ interval: 300 });
    const audioLevels = await router.createAudioLevelObserver({
      maxEntries: 10,
      threshold: -80,
      interval: 800,
    });
    const self = new SpeakerObservers(router, activeSpeaker, audioLevels, pipes);
    activeSpeaker.on('dominantspeaker', ({ producer }) => {
      const mic = self.#mics.get(producer.id);
      if (!self.#closed && mic && !mic.closed) events.dominant(mic);
    });
    audioLevels.on('volumes', (volumes) => {
      if (self.#closed) return;
      events.levels(
        volumes.map((v) => ({
          peerId: (v.producer.appData as ProducerAppData).peerId,
          volume: v.volume,
        })),
      );
    });
    audioLevels.on('silence', () => {
      if (!self.#closed) events.levels([]);
    });
    return self;
  }

  /**
   * Listens to `mic` (produced on `origin`): piped here first if it lives on another router,
   * held until the mic closes (the pipe producer then closes and leaves the observers).
   */
  async observe(mic: Producer<ProducerAppData>, origin: Router): Promise<void> {
    if (this.#closed || mic.closed) return;
    let reached: Reached;
    try {
      reached = await this.#pipes.reach(mic, origin, this.router);
    } catch {
      return; // The mic or a router went away meanwhile.
    }
    if (mic.closed || this.#closed) {
      reached.release();
      return;
    }
    const { producerId } = reached;
    this.#mics.set(producerId, mic);
    mic.observer.once('close', () => {
      this.#mics.delete(producerId);
      reached.release();
    });
    await this.#activeSpeaker.addProducer({ producerId }).catch(() => {});
    await this.#audioLevels.addProducer({ producerId }).catch(() => {});
  }

  /** Its router closed or is closing (the observers close with it). */
  close(): void {
    this.#closed = true;
  }
}
