import { z } from 'zod';
import { seconds } from './fields.ts';

export const roomsSection = z
  .object({
    /** An empty room is deleted after this long without anyone in it. */
    idleTtlSeconds: seconds.default(24 * 3600),
    cleanupIntervalSeconds: seconds.default(600),
    maxCapacity: z.coerce.number().int().min(2).max(1000).default(100),
    passwordMaxAttempts: z.coerce.number().int().min(1).default(5),
    passwordWindowSeconds: seconds.default(60),
    passwordLockoutSeconds: seconds.default(300),
  })
  .prefault({});
