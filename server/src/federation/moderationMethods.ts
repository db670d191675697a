import { z } from 'zod';

const id = z.string().min(1).max(128);

/**
 * `moderation.relay`: a moderator on the calling node acts on a person who sits on the called
 * node. The callee authorizes it from the actor's role as the caller's presence announced
 * it, and only if the actor sits on the calling node.
 */
export const moderationMethods = {
  'moderation.relay': {
    request: z.object({
      roomId: id,
      actorId: id,
      targetId: id,
      action: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('setRole'), role: z.enum(['moderator', 'participant']) }),
        z.object({ kind: z.literal('mute') }),
        z.object({ kind: z.literal('allowUnmute') }),
        z.object({ kind: z.literal('stopVideo'), source: z.enum(['camera', 'screen']) }),
        z.object({ kind: z.literal('remove'), ban: z.boolean() }),
      ]),
    }),
    response: z.object({}),
  },
};
