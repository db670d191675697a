import { z } from 'zod';

/**
 * `e2ee.epoch`: the highest key epoch this node holds for an E2EE room (a node whose first
 * member of the room joins asks the others). Only a counter: no key material ever.
 */
export const e2eeMethods = {
  'e2ee.epoch': {
    request: z.object({ roomId: z.string().min(1).max(128) }),
    response: z.object({ epoch: z.number().int().min(0) }),
  },
};
