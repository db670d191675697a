import { z } from 'zod';
import type { ModerationRequestMap, ModerationRequestMethod } from '../moderation.ts';
import { idSchema } from './fields.ts';

/** The zod schemas of the moderation requests (roles, actions, settings, waiting room). */

const empty = () => z.object({}).strict();
const target = () => z.object({ peerId: idSchema }).strict();

export const moderationRequestSchemas = {
  'moderation.setRole': z
    .object({ peerId: idSchema, role: z.enum(['moderator', 'participant']) })
    .strict(),
  'moderation.mute': target(),
  'moderation.allowUnmute': target(),
  'moderation.stopVideo': z
    .object({ peerId: idSchema, source: z.enum(['camera', 'screen']) })
    .strict(),
  'moderation.remove': z.object({ peerId: idSchema, ban: z.boolean().optional() }).strict(),
  'moderation.settings': z
    .object({
      locked: z.boolean().optional(),
      waitingRoom: z.boolean().optional(),
      moderatorsUnmute: z.boolean().optional(),
      signedInOnly: z.boolean().optional(),
    })
    .strict(),
  'moderation.end': empty(),
  'moderation.admit': z.object({ waitingId: idSchema }).strict(),
  'moderation.deny': z.object({ waitingId: idSchema }).strict(),
} as const satisfies Record<ModerationRequestMethod, z.ZodType>;

// Compile time: each schema takes and produces exactly the ModerationRequestMap shape.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Mismatched = {
  [M in ModerationRequestMethod]: Same<
    z.input<(typeof moderationRequestSchemas)[M]>,
    ModerationRequestMap[M]
  > extends true
    ? Same<z.output<(typeof moderationRequestSchemas)[M]>, ModerationRequestMap[M]> extends true
      ? never
      : M
    : M;
}[ModerationRequestMethod];
type _SchemasMatchModerationRequestMap = Expect<[Mismatched] extends [never] ? true : false>;
type Expect<T extends true> = T;
