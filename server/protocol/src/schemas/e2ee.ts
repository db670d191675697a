import { z } from 'zod';
import type { E2eeRequestMethod } from '../e2ee.ts';

/** The zod schemas of the E2EE requests (no key material ever: only the epoch moves). */
export const e2eeRequestSchemas = {
  'e2ee.rotate': z.object({}).strict(),
} as const satisfies Record<E2eeRequestMethod, z.ZodType>;
