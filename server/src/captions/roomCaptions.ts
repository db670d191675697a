import type { Producer } from 'mediasoup/types';
import type { CaptionGapReason, CaptionLine, CaptionsState } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { ProducerAppData } from '../rooms/mediaTypes.ts';
import type { Room } from '../rooms/Room.ts';
import type { StreamSlots } from './slots.ts';
import { CaptionStream } from './stream.ts';
import type { TranscriberEngine } from './transcriber.ts';
import { Transcript } from './transcript.ts';

export interface RoomCaptionsDeps {
  engine: TranscriberEngine;
  slots: StreamSlots;
  ffmpeg: string;
  listenIp: string;
  maxRestarts: number;
  log: Logger;
  /** The speaker's nickname now (for the transcript). */
  nicknameOf(peerId: string): string;
  /** Tells every member of the room on this node. */
  broadcastState(state: CaptionsState): void;
  broadcastLine(line: CaptionLine): void;
}

/**
 * One room's captions: while on, every open mic of its members gets a CaptionStream if a
 * node slot is free; the others are listed as gaps ('limit') and start when a slot frees.
 */
export class RoomCaptions {
  readonly #room: Room;
  readonly #d: RoomCaptionsDeps;
  #enabledBy: string | null = null;
  readonly #streams = new Map<string, CaptionStream>();
  /** Mic producer id → the mic and why it has no stream. */
  readonly #gaps = new Map<string, { mic: Producer<ProducerAppData>; reason: CaptionGapReason }>();
  readonly #onProduced = (producer: Producer<ProducerAppData>) => this.#add(producer);
  #stopFreed: (() => void) | undefined;
  /** Mics whose close is already watched (captions may be turned on and off many times). */
  readonly #watched = new WeakSet<Producer<ProducerAppData>>();
  /** Kept while the room lives (turning captions off does not forget what was said). */
  readonly transcript = new Transcript();

  constructor(room: Room, deps: RoomCaptionsDeps) {
    this.#room = room;
    this.#d = deps;
  }

  get enabled(): boolean {
    return this.#enabledBy !== null;
  }

  state(): CaptionsState {
    return {
      enabled: this.enabled,
      enabledBy: this.#enabledBy,
      engine: this.enabled ? this.#d.engine.name : null,
      language: this.enabled ? this.#d.engine.language : null,
      gaps: [...this.#gaps.values()].map((g) => ({
        peerId: g.mic.appData.peerId,
        reason: g.reason,
      })),
    };
  }

  enable(by: string): void {
    if (this.enabled) return;
    this.#enabledBy = by;
    this.#room.on('produced', this.#onProduced);
    this.#stopFreed = this.#d.slots.onFreed(() => this.#fillGaps());
    for (const mic of this.#room.mics()) this.#add(mic);
    this.#changed();
  }

  /** Off: every stream of the room stops; resolves once their processes are gone. */
  async disable(): Promise<void> {
    if (!this.enabled) return;
    this.#enabledBy = null;
    this.#room.off('produced', this.#onProduced);
    this.#stopFreed?.();
    this.#gaps.clear();
    const streams = [...this.#streams.keys()];
    await Promise.all(streams.map((id) => this.#stop(id)));
    this.#changed();
  }

  #add(mic: Producer<ProducerAppData>): void {
    if (mic.appData.source !== 'mic' || mic.closed || this.#streams.has(mic.id)) return;
    if (!this.#watched.has(mic)) {
      this.#watched.add(mic);
      mic.observer.once('close', () => void this.#micClosed(mic.id));
    }
    this.#tryStart(mic);
  }

  #tryStart(mic: Producer<ProducerAppData>): void {
    const router = this.#room.media.currentRouterFor(mic.appData.peerId);
    if (!router || mic.closed) return;
    if (!this.#d.slots.take()) {
      this.#setGap(mic, 'limit');
      return;
    }
    this.#gaps.delete(mic.id);
    const peerId = mic.appData.peerId;
    const stream = new CaptionStream({
      router,
      producer: mic,
      engine: this.#d.engine,
      ffmpeg: this.#d.ffmpeg,
      listenIp: this.#d.listenIp,
      maxRestarts: this.#d.maxRestarts,
      log: this.#d.log.child({ peerId, producerId: mic.id }),
      onText: (text) => {
        if (text.final)
          this.transcript.add({ nickname: this.#d.nicknameOf(peerId), text: text.text });
        this.#d.broadcastLine({
          peerId,
          id: `${mic.id}-${text.utterance}`,
          text: text.text,
          final: text.final,
          at: Date.now(),
        });
      },
      onFailed: () => {
        if (this.#streams.get(mic.id) !== stream) return;
        void this.#stop(mic.id);
        this.#setGap(mic, 'failed');
      },
    });
    this.#streams.set(mic.id, stream);
  }

  #setGap(mic: Producer<ProducerAppData>, reason: CaptionGapReason): void {
    this.#gaps.set(mic.id, { mic, reason });
    this.#changed();
  }

  /** A slot freed: the mics waiting for one ('limit') start, oldest first. */
  #fillGaps(): void {
    for (const gap of [...this.#gaps.values()]) {
      if (gap.reason !== 'limit' || this.#d.slots.used >= this.#d.slots.max) continue;
      this.#tryStart(gap.mic);
      if (this.#streams.has(gap.mic.id)) this.#changed();
    }
  }

  async #micClosed(micId: string): Promise<void> {
    const hadGap = this.#gaps.delete(micId);
    await this.#stop(micId);
    if (hadGap) this.#changed();
  }

  async #stop(micId: string): Promise<void> {
    const stream = this.#streams.get(micId);
    if (!stream) return;
    this.#streams.delete(micId);
    await stream.stop();
    this.#d.slots.release();
  }

  #changed(): void {
    this.#d.broadcastState(this.state());
  }
}
