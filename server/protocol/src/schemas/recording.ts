import { z } from 'zod';
import type { RecordingRequestMethod } from '../recording.ts';
import { ownerSecretSchema } from './fields.ts';

/** The zod schemas of the recording requests. */
export const recordingRequestSchemas = {
  'recording.start': z.object({ ownerSecret: ownerSecretSchema.optional() }).strict(),
  'recording.stop': z.object({ ownerSecret: ownerSecretSchema.optional() }).strict(),
  'recording.list': z.object({}).strict(),
} as const satisfies Record<RecordingRequestMethod, z.ZodType>;
