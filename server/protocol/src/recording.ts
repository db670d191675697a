/**
 * Server-side recording over the signaling socket (issue #13): the owner starts and stops
 * it, every member is told its state and the finished recordings. Types and constants only
 * (the client bundles them); the zod schemas are `recordingRequestSchemas` in
 * `@tutti/protocol/schemas`.
 */

/** Whether the room is being recorded, and why not any more when it ended by itself. */
export interface RecordingState {
  active: boolean;
  /** ms epoch; null when not recording. */
  startedAt: number | null;
  /** Tracks recorded so far (ended ones included). */
  tracks: number;
  /** Set when the last recording ended abnormally (ffmpeg or worker died, storage full). */
  error: string | null;
}

/** One finished recording, as a member of the room sees it. */
export interface RecordingItem {
  id: string;
  startedAt: number;
  durationMs: number;
  /** 'partial': a track's writer died mid-way, the files hold what came before. */
  status: 'ready' | 'partial' | 'failed';
  /** Download link of the composite for *this* member (carries its access token). */
  url: string | null;
  /** Per-track files (one per participant track), same token. */
  tracks: { name: string; url: string; size: number }[];
  size: number;
}

type NoData = Record<string, never>;

/** Client → server recording requests (merged into RequestMap). */
export interface RecordingRequestMap {
  /** Owner only (owner secret from room.create), until moderator roles exist. */
  /** Owners and moderators may; a guest creator proves ownership with the owner secret. */
  'recording.start': { ownerSecret?: string };
  'recording.stop': { ownerSecret?: string };
  /** State and finished recordings (also in the room.join answer). */
  'recording.list': NoData;
}

export interface RecordingResponseMap {
  'recording.start': { state: RecordingState };
  'recording.stop': { state: RecordingState };
  'recording.list': RecordingJoinExtras;
}

/** What a member is told on join and by recording.list. */
export interface RecordingJoinExtras {
  recording: RecordingState;
  recordings: RecordingItem[];
}

export interface RecordingNotificationMap {
  /** Sent to every member when recording starts, stops or fails. */
  'recording.state': { state: RecordingState };
  /** A recording finished (its composite is ready or failed): the member's own links. */
  'recording.item': { item: RecordingItem };
}

export const RECORDING_REQUEST_METHODS = [
  'recording.start',
  'recording.stop',
  'recording.list',
] as const satisfies readonly (keyof RecordingRequestMap)[];

export type RecordingRequestMethod = keyof RecordingRequestMap;
type UnlistedRecordingMethod = Exclude<
  RecordingRequestMethod,
  (typeof RECORDING_REQUEST_METHODS)[number]
>;
type _EveryRecordingMethodListed = Expect<[UnlistedRecordingMethod] extends [never] ? true : false>;
type Expect<T extends true> = T;

export const IDLE_RECORDING: RecordingState = {
  active: false,
  startedAt: null,
  tracks: 0,
  error: null,
};
