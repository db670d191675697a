import type { CaptionEngineName } from '@tutti/protocol';

/** The audio every Transcriber takes: 16 kHz, mono, signed 16-bit little-endian PCM. */
export const PCM_RATE = 16_000;
export const PCM_BYTES_PER_SECOND = PCM_RATE * 2;

export interface RecognizedText {
  text: string;
  /** False: a hypothesis the next line of the same utterance replaces. */
  final: boolean;
}

export interface TranscriberHandlers {
  onText(text: RecognizedText): void;
  /** The recognizer ended on its own (crash, bad model); `error` says why, null after end(). */
  onExit(error: Error | null): void;
}

/** One running recognizer for one speaker. */
export interface Transcriber {
  /** The recognizer's process id (a child process), if it runs in one. */
  readonly pid: number | undefined;
  /** Feeds PCM (PCM_RATE mono s16le). Dropped, not queued, when the recognizer is behind. */
  write(pcm: Buffer): void;
  /** Stops it now; resolves once it is gone (no orphan process). */
  kill(): Promise<void>;
}

/** A speech recognizer: pocketsphinx now; sherpa-onnx once a model is supplied. */
export interface TranscriberEngine {
  readonly name: CaptionEngineName;
  /** BCP 47 tag of the language its model recognizes. */
  readonly language: string;
  /** Whether it emits partial hypotheses before the final text of an utterance. */
  readonly partials: boolean;
  /** Null when it can run on this machine; else why not (missing binary or model). */
  unavailable(): string | null;
  open(handlers: TranscriberHandlers): Transcriber;
}
