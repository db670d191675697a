/**
 * Moderation and the waiting room (issue 11): roles, moderator actions, room settings.
 * Types and constants only (the client bundles them); the zod schemas are
 * `moderationRequestSchemas` in `@tutti/protocol/schemas`. Every request is authorized on
 * the server: a participant's attempt is refused with FORBIDDEN.
 */

export const ROLES = ['owner', 'moderator', 'participant'] as const;
/** owner: created the room (by account or owner secret); moderator: made one by an owner/moderator. */
export type Role = (typeof ROLES)[number];

/** Room settings an owner or moderator changes (`moderation.settings`). */
export interface ModerationSettings {
  /** No new joins (owners and moderators by account still get in). */
  locked: boolean;
  /** Newcomers wait until a moderator admits them. */
  waitingRoom: boolean;
  /** A mic muted by a moderator stays muted until a moderator allows it again. */
  moderatorsUnmute: boolean;
  /** Guests are refused (SIGN_IN_REQUIRED). */
  signedInOnly: boolean;
}

export const DEFAULT_MODERATION_SETTINGS: ModerationSettings = {
  locked: false,
  waitingRoom: false,
  moderatorsUnmute: false,
  signedInOnly: false,
};

/** Someone in the waiting room, as moderators see them. `id` is their connection id. */
export interface WaitingPerson {
  id: string;
  nickname: string;
  since: number;
}

/** The room.join answer's `moderation` field. `waiting` is empty for participants. */
export interface ModerationSnapshot {
  settings: ModerationSettings;
  waiting: WaitingPerson[];
}

type NoData = Record<string, never>;

/** Client → server moderation requests (merged into RequestMap). */
export interface ModerationRequestMap {
  /** Make someone a moderator (owner/moderator), or back a participant (owner only). */
  'moderation.setRole': { peerId: string; role: 'moderator' | 'participant' };
  /** Pause someone's microphone on the server. */
  'moderation.mute': { peerId: string };
  /** With "moderators unmute" on: let a muted person unmute again. */
  'moderation.allowUnmute': { peerId: string };
  /** Close someone's camera or screen share (with its audio). */
  'moderation.stopVideo': { peerId: string; source: 'camera' | 'screen' };
  /** Remove someone; `ban` bars their account (or, for a guest, their address) from this room. */
  'moderation.remove': { peerId: string; ban?: boolean };
  /** Change some settings; answers the full set. */
  'moderation.settings': Partial<ModerationSettings>;
  /** Remove everyone (the room stays; its owner may delete it). */
  'moderation.end': NoData;
  /** Let a waiting person in: they are told `moderation.admitted` and join as usual. */
  'moderation.admit': { waitingId: string };
  'moderation.deny': { waitingId: string };
}

export const MODERATION_REQUEST_METHODS = [
  'moderation.setRole',
  'moderation.mute',
  'moderation.allowUnmute',
  'moderation.stopVideo',
  'moderation.remove',
  'moderation.settings',
  'moderation.end',
  'moderation.admit',
  'moderation.deny',
] as const satisfies readonly (keyof ModerationRequestMap)[];

export type ModerationRequestMethod = keyof ModerationRequestMap;

// Compile time: the list names every method of ModerationRequestMap.
type Unlisted = Exclude<ModerationRequestMethod, (typeof MODERATION_REQUEST_METHODS)[number]>;
type _EveryModerationMethodListed = Expect<[Unlisted] extends [never] ? true : false>;
type Expect<T extends true> = T;

export interface ModerationResponseMap {
  'moderation.setRole': NoData;
  'moderation.mute': NoData;
  'moderation.allowUnmute': NoData;
  'moderation.stopVideo': NoData;
  'moderation.remove': NoData;
  'moderation.settings': { settings: ModerationSettings };
  'moderation.end': NoData;
  'moderation.admit': NoData;
  'moderation.deny': NoData;
}

/** Server → client moderation notifications (merged into NotificationMap). */
export interface ModerationNotificationMap {
  /** To everyone in the room after a change. */
  'moderation.settings': { settings: ModerationSettings };
  /** To moderators and owners: the whole waiting list after each change. */
  'moderation.waiting': { waiting: WaitingPerson[] };
  /** To the person affected. `canUnmute` is false while "moderators unmute" holds them. */
  'moderation.muted': { by: string; canUnmute: boolean };
  'moderation.unmuteAllowed': { by: string };
  'moderation.videoStopped': { by: string; source: 'camera' | 'screen' };
  /** To the person removed, before they leave the room (their socket stays open). */
  'moderation.removed': { by: string; banned: boolean };
  /** To everyone, before they are taken out of the room. */
  'moderation.ended': { by: string };
  /** To a waiting person: send room.join again. */
  'moderation.admitted': { roomId: string };
  'moderation.denied': { roomId: string };
}
