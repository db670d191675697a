/**
 * Live captions over the signaling socket (issue 14): the server consumes each speaking
 * member's mic, transcribes it and broadcasts caption lines. Types and constants only (the
 * client bundles them); the zod schemas are `captionRequestSchemas` in
 * `@tutti/protocol/schemas`.
 */

/** The speech recognizers a node may run (docs/captions.md says which work where). */
export const CAPTION_ENGINES = ['pocketsphinx', 'sherpa-onnx'] as const;
export type CaptionEngineName = (typeof CAPTION_ENGINES)[number];

export interface CaptionRequestMap {
  /** Turn the room's captions on or off: its owner (the owner secret proves it) or a moderator. */
  'captions.set': { enabled: boolean; ownerSecret?: string };
  /** The room's captions state now (after a reconnect). */
  'captions.state': Record<string, never>;
  /** Owner: post the transcript so far (its newest lines that fit) to the chat history. */
  'captions.save': { ownerSecret?: string };
}

export const CAPTION_REQUEST_METHODS = [
  'captions.set',
  'captions.state',
  'captions.save',
] as const satisfies readonly (keyof CaptionRequestMap)[];

export type CaptionRequestMethod = keyof CaptionRequestMap;

// Compile time: the list names every method of CaptionRequestMap.
type UnlistedCaptionMethod = Exclude<
  CaptionRequestMethod,
  (typeof CAPTION_REQUEST_METHODS)[number]
>;
type _EveryCaptionMethodListed = ExpectTrue<[UnlistedCaptionMethod] extends [never] ? true : false>;
type ExpectTrue<T extends true> = T;

/** Why one speaker's mic is not being captioned. */
export type CaptionGapReason =
  /** The node runs its maximum of caption streams (captions.maxStreams). */
  | 'limit'
  /** The recognizer or decoder kept crashing; it was given up. */
  | 'failed';

export interface CaptionsState {
  enabled: boolean;
  /** Who turned them on (a peer id), null when off. */
  enabledBy: string | null;
  engine: CaptionEngineName | null;
  /** BCP 47 tag of what the engine recognizes, e.g. "en-US". */
  language: string | null;
  /** Speakers with an open mic that get no captions, and why. */
  gaps: { peerId: string; reason: CaptionGapReason }[];
}

/** One caption line of one speaker. Partial lines are replaced by the next line of the same id. */
export interface CaptionLine {
  /** The speaker (protoo peer id). */
  peerId: string;
  /** One utterance: partials and its final share the id. */
  id: string;
  text: string;
  final: boolean;
  /** Server time (ms since epoch) the line was recognized. */
  at: number;
}

export interface CaptionResponseMap {
  'captions.set': { captions: CaptionsState };
  'captions.state': { captions: CaptionsState };
  /** How many caption lines the chat message holds (0: nothing said yet, nothing posted). */
  'captions.save': { lines: number };
}

/** What the room.join answer gains (JoinResult: `captions`) when the captions module runs. */
export interface CaptionsJoinExtras {
  captions: CaptionsState;
}

/** Server → client caption notifications. */
export interface CaptionNotificationMap {
  'captions.state': { captions: CaptionsState };
  'captions.line': CaptionLine;
}
