import { z } from 'zod';
import { peerInfoSchema } from './presenceEvents.ts';

/**
 * Presence's node-to-node requests: `presence.snapshot` answers the members this node has
 * (in one room, or in all of them when `roomId` is absent), so a node that missed events (it
 * just started, got its first member of a room, or lost Redis for a while) catches up.
 */
export const presenceMethods = {
  'presence.snapshot': {
    request: z.object({ roomId: z.string().min(1).max(128).optional() }),
    response: z.object({
      rooms: z.array(z.object({ roomId: z.string(), peers: z.array(peerInfoSchema) })).max(10_000),
    }),
  },
};
