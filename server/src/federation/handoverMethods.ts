import { z } from 'zod';
import { peerInfoSchema } from './presenceEvents.ts';

/** What a node keeps of a resume token (SHA-256, base64url). */
const tokenHash = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/**
 * `session.handover`: a member resumes through the calling node with a resume token the
 * called node issued. The called node spends the token, takes the member out of its room
 * without a leave and answers what the caller needs to seat it (federation/handover.ts): the
 * room, what the others see of the member (id, nickname, role, joinedAt), the notifications
 * kept for it while it was away (protoo frames, in order; media ones dropped: its transports
 * stay behind), whether a moderator holds its mic, the join token identity it came with and
 * what it had of the chat (the new node sends it what it missed). RESUME_FAILED when the token is
 * unknown or spent, or its membership is over. `movedTo`: the called node handed this very
 * token's member over to that node a moment ago, and that resume's answer may have been lost
 * (docs/reconnect.md): ask that node instead.
 */
export const handoverMethods = {
  'session.handover': {
    request: z.object({ tokenHash }),
    response: z.union([
      z.object({ movedTo: z.string().min(1).max(128) }),
      z.object({
        roomId: z.string().min(1).max(128),
        peer: peerInfoSchema,
        kept: z.array(z.string().max(512 * 1024)).max(10_000),
        micHeld: z.boolean(),
        identity: z.string().min(1).max(128).optional(),
        chat: z
          .object({
            after: z.number().int().min(0),
            seen: z.array(z.string().min(1).max(64)).max(512),
          })
          .optional(),
      }),
    ]),
  },
};
