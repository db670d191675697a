import { z } from 'zod';

const id = z.string().min(1).max(128);

/**
 * `captions.state`: whether captions are on in a room on this node, and who turned them on.
 * A node asks the others when it first needs the room (its first member there), so one that
 * started, or first hosted the room, after captions were turned on learns it (captionsRelay).
 */
export const captionsMethods = {
  'captions.state': {
    request: z.object({ roomId: id }),
    response: z.object({ enabled: z.boolean(), by: id.nullable() }),
  },
};
