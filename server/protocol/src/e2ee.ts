/**
 * End-to-end encrypted rooms over the signaling socket (issue #13, docs/e2ee.md): the key
 * epoch. The server never sees key material: it only counts epochs, moves the room to the
 * next one when a member leaves (or one asks), and tells every member. The browsers derive
 * each epoch's keys themselves. Types and constants only (the client bundles them); the zod
 * schemas are `e2eeRequestSchemas` in `@tutti/protocol/schemas`.
 */

export interface E2eeRequestMap {
  /** Move the room to a new key epoch now (any member of an E2EE room may). */
  'e2ee.rotate': Record<string, never>;
}

export interface E2eeResponseMap {
  'e2ee.rotate': { epoch: number };
}

export const E2EE_REQUEST_METHODS = [
  'e2ee.rotate',
] as const satisfies readonly (keyof E2eeRequestMap)[];

export type E2eeRequestMethod = keyof E2eeRequestMap;
type UnlistedE2eeMethod = Exclude<E2eeRequestMethod, (typeof E2EE_REQUEST_METHODS)[number]>;
type _EveryE2eeMethodListed = Expect<[UnlistedE2eeMethod] extends [never] ? true : false>;
type Expect<T extends true> = T;

/** Why the room moved to a new epoch: a member left, or one asked (`e2ee.rotate`). */
export type E2eeEpochReason = 'left' | 'rotate';

/** What the room.join answer gains (JoinResult: `e2eeEpoch`) in an E2EE room. */
export interface E2eeJoinExtras {
  /** The key epoch senders use now (0 when the room began). */
  e2eeEpoch: number;
}

export interface E2eeNotificationMap {
  /** The room is now at `epoch`: senders switch to its keys; receivers keep the last one briefly. */
  'e2ee.epoch': { epoch: number; reason: E2eeEpochReason };
}
