import type { PlainTransport, Producer, Router } from 'mediasoup/types';
import type { Logger } from '../kernel/log.ts';
import type { ProducerAppData } from '../rooms/mediaTypes.ts';
import { openDecoder, type Decoder } from './decoder.ts';
import {
  PCM_BYTES_PER_SECOND,
  type RecognizedText,
  type Transcriber,
  type TranscriberEngine,
} from './transcriber.ts';
import { freePortPair, waitBound } from './udp.ts';

export interface CaptionStreamOptions {
  /** The router the mic was produced on (its member's). */
  router: Router;
  producer: Producer<ProducerAppData>;
  engine: TranscriberEngine;
  ffmpeg: string;
  /** Loopback address the RTP goes to ffmpeg on. */
  listenIp: string;
  /** Crashes within a minute restarted before the stream gives up. */
  maxRestarts: number;
  log: Logger;
  onText(text: RecognizedText & { utterance: number }): void;
  /** Gave up (crashing) or could not start; the stream is stopped. */
  onFailed(reason: string): void;
}

/** ffmpeg's own input timeout is ~10 s without RTP: an exit after this long is not a crash. */
const IDLE_EXIT_AFTER_MS = 5000;
/** No PCM for this long ends the utterance: the recognizer is fed 2 s of silence (its VAD needs ~1 s). */
const SILENCE_FLUSH_MS = 600;
const SILENCE = Buffer.alloc(2 * PCM_BYTES_PER_SECOND);

/** The part restarted when ffmpeg ends: a PlainTransport (connect() is once) and its ffmpeg. */
interface Leg {
  transport: PlainTransport;
  decoder: Decoder | undefined;
  /** Set when its ffmpeg ended on its own (what it said). */
  exited?: string;
}

/**
 * One mic being captioned: PlainTransport consumer → ffmpeg (Opus → 16 kHz PCM) → the
 * engine's Transcriber. ffmpeg and the recognizer are child processes restarted
 * independently when they crash (more than maxRestarts crashes of the two in a minute give
 * the stream up), and killed on stop().
 */
export class CaptionStream {
  readonly #o: CaptionStreamOptions;
  readonly #log: Logger;
  #leg: Leg | undefined;
  #legStarting: Promise<void> | undefined;
  #transcriber: Transcriber | undefined;
  #crashes: number[] = [];
  #stopped = false;
  #lastPcmAt = 0;
  #unflushed = false;
  #utterance = 0;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #flushTimer: NodeJS.Timeout;
  readonly #onPause = () => void this.#dropLeg();
  readonly #onResume = () => void this.#startLeg();

  constructor(opts: CaptionStreamOptions) {
    this.#o = opts;
    this.#log = opts.log;
    this.#flushTimer = setInterval(() => this.#flushIfQuiet(), 200);
    this.#flushTimer.unref();
    opts.producer.observer.on('pause', this.#onPause);
    opts.producer.observer.on('resume', this.#onResume);
    this.#startTranscriber();
    if (!opts.producer.paused) void this.#startLeg();
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Kills both processes and closes the transport; resolves once the processes are gone. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#flushTimer);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#o.producer.observer.off('pause', this.#onPause);
    this.#o.producer.observer.off('resume', this.#onResume);
    const transcriber = this.#transcriber;
    this.#transcriber = undefined;
    await Promise.all([this.#dropLeg(), transcriber?.kill(), this.#legStarting]);
  }

  #startTranscriber(): void {
    const transcriber = this.#o.engine.open({
      onText: (text) => {
        if (this.#transcriber !== transcriber) return;
        this.#o.onText({ ...text, utterance: this.#utterance });
        if (text.final) this.#utterance++;
      },
      onExit: (error) => {
        if (this.#transcriber !== transcriber || this.#stopped) return;
        this.#transcriber = undefined;
        this.#crashed(`recognizer: ${error?.message ?? 'exited'}`, () => this.#startTranscriber());
      },
    });
    this.#transcriber = transcriber;
  }

  #startLeg(): Promise<void> {
    if (this.#stopped || this.#leg) return Promise.resolve();
    this.#legStarting ??= this.#openLeg()
      .then(async (leg) => {
        if (this.#stopped || this.#o.producer.paused) await closeLeg(leg);
        else this.#leg = leg;
      })
      .catch((err: unknown) => {
        if (this.#stopped || this.#o.producer.closed) return;
        const reason = `decoder set-up: ${(err as Error).message}`;
        this.#crashed(reason, () => void this.#startLeg());
      })
      .finally(() => {
        this.#legStarting = undefined;
      });
    return this.#legStarting;
  }

  async #openLeg(): Promise<Leg> {
    const { router, producer, listenIp } = this.#o;
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: listenIp },
      rtcpMux: true,
      comedia: false,
      appData: { captions: true, peerId: producer.appData.peerId },
    });
    const leg: Leg = { transport, decoder: undefined };
    try {
      const consumer = await transport.consume({
        producerId: producer.id,
        rtpCapabilities: router.rtpCapabilities,
        paused: true,
        appData: { captions: true, peerId: producer.appData.peerId },
      });
      const codec = consumer.rtpParameters.codecs[0];
      if (!codec) throw new Error('the consumer has no codec');
      const port = await freePortPair(listenIp);
      await transport.connect({ ip: listenIp, port });
      if (this.#stopped) throw new Error('stopped');
      const [, name] = codec.mimeType.split('/');
      const rtpmap = `${name ?? 'opus'}/${codec.clockRate}/${codec.channels ?? 1}`;
      const input = { ip: listenIp, port, payloadType: codec.payloadType, rtpmap };
      leg.decoder = openDecoder(this.#o.ffmpeg, input, {
        onPcm: (pcm) => this.#pcm(pcm),
        onExit: (code, detail) => this.#decoderExited(leg, code, detail),
      });
      // RTP sent before ffmpeg listens would be lost (and refused with ICMP).
      if (!(await waitBound(listenIp, port, 3000))) this.#log.warn({ port }, 'ffmpeg slow to bind');
      if (leg.exited !== undefined) throw new Error(`ffmpeg exited at start: ${leg.exited}`);
      if (!this.#stopped) await consumer.resume();
      return leg;
    } catch (err) {
      await closeLeg(leg);
      throw err;
    }
  }

  async #dropLeg(): Promise<void> {
    const leg = this.#leg;
    this.#leg = undefined;
    if (!leg) return;
    await closeLeg(leg);
  }

  #decoderExited(leg: Leg, code: number | null, detail: string): void {
    const age = leg.decoder?.age ?? 0;
    leg.decoder = undefined;
    leg.exited = detail;
    if (this.#leg !== leg || this.#stopped) return;
    void this.#dropLeg();
    if (this.#o.producer.closed || this.#o.producer.paused) return;
    // Its input timeout (no RTP for ~10 s): start again, not a crash.
    if (code === 0 && age >= IDLE_EXIT_AFTER_MS) return void this.#startLeg();
    this.#crashed(`decoder exited (${String(code)}): ${detail}`, () => void this.#startLeg());
  }

  /** Restarts after a crash, or gives the stream up after too many in a minute. */
  #crashed(reason: string, restart: () => void): void {
    const now = Date.now();
    this.#crashes = this.#crashes.filter((at) => now - at < 60_000);
    this.#crashes.push(now);
    if (this.#crashes.length > this.#o.maxRestarts) {
      this.#log.error({ reason, crashes: this.#crashes.length }, 'caption stream gave up');
      void this.stop();
      this.#o.onFailed(reason);
      return;
    }
    this.#log.warn({ reason, crashes: this.#crashes.length }, 'caption stream restarting');
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#stopped) restart();
    }, 250 * this.#crashes.length);
    this.#timers.add(timer);
  }

  #pcm(pcm: Buffer): void {
    this.#lastPcmAt = Date.now();
    this.#unflushed = true;
    this.#transcriber?.write(pcm);
  }

  /** The mic went quiet (muted, lost): silence lets the recognizer end the utterance. */
  #flushIfQuiet(): void {
    if (!this.#unflushed || Date.now() - this.#lastPcmAt < SILENCE_FLUSH_MS) return;
    this.#unflushed = false;
    this.#transcriber?.write(SILENCE);
  }
}

async function closeLeg(leg: Leg): Promise<void> {
  const decoder = leg.decoder;
  leg.decoder = undefined;
  if (!leg.transport.closed) leg.transport.close();
  await decoder?.kill();
}
