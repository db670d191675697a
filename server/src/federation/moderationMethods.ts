import { z } from 'zod';

const id = z.string().min(1).max(128);

/**
 * Moderation's node-to-node requests. In each the callee authorizes the actor from its role
 * as the caller's presence announced it, and only if the actor sits on the calling node.
 * `moderation.relay`: a moderator on the calling node acts on a person on the called node.
 * `moderation.door`: admits or denies someone who waits on the called node.
 * `moderation.end`: the meeting ends; the called node takes out its members and waiting people.
 * `moderation.admin`: the admin API (an API key checked by the calling node) mutes or removes
 * a member of the called node; it answers the paused producers.
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
  'moderation.door': {
    request: z.object({
      roomId: id,
      actorId: id,
      waitingId: id,
      decision: z.enum(['admit', 'deny']),
    }),
    response: z.object({}),
  },
  'moderation.end': {
    request: z.object({ roomId: id, actorId: id }),
    response: z.object({}),
  },
  'moderation.admin': {
    request: z.object({ roomId: id, targetId: id, action: z.enum(['mute', 'remove']) }),
    response: z.object({ paused: z.array(id).max(16) }),
  },
};
