import { z } from 'zod';
import type { CaptionRequestMap, CaptionRequestMethod } from '../captions.ts';
import { ownerSecretSchema } from './fields.ts';

/** The zod schemas of the caption requests. */
export const captionRequestSchemas = {
  'captions.set': z
    .object({ enabled: z.boolean(), ownerSecret: ownerSecretSchema.optional() })
    .strict(),
  'captions.state': z.object({}).strict(),
  'captions.save': z.object({ ownerSecret: ownerSecretSchema.optional() }).strict(),
} as const satisfies Record<CaptionRequestMethod, z.ZodType>;

// Compile time: each schema takes and produces exactly the CaptionRequestMap shape.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Mismatched = {
  [M in CaptionRequestMethod]: Same<
    z.input<(typeof captionRequestSchemas)[M]>,
    CaptionRequestMap[M]
  > extends true
    ? Same<z.output<(typeof captionRequestSchemas)[M]>, CaptionRequestMap[M]> extends true
      ? never
      : M
    : M;
}[CaptionRequestMethod];
type _SchemasMatchCaptionRequestMap = Expect<[Mismatched] extends [never] ? true : false>;
type Expect<T extends true> = T;
