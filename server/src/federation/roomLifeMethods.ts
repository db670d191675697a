import { z } from 'zod';
import { GAME_REQUEST_METHODS } from '@tutti/protocol';
import { gameSnapshotSchema, handQueueStateSchema } from '@tutti/protocol/schemas';

const id = z.string().min(1).max(128);

/**
 * Room life across nodes: the node that runs a room's life (federation/lifeClaims.ts) serves
 * the requests of members who sit on other nodes. It believes nothing about the member but its
 * id: who they are, their role and their node come from presence (what the caller announced).
 * `life.request` carries the client's request data as it came: the holder validates it with
 * the same schemas (`gameRequestSchemas`) as a request of its own members.
 */
export const roomLifeMethods = {
  'life.request': {
    request: z.object({
      roomId: id,
      memberId: id,
      method: z.enum(GAME_REQUEST_METHODS),
      data: z.unknown(),
    }),
    response: z.record(z.string(), z.unknown()),
  },
  /** The room.join answer's `game` and `hands`, for a member joining on the calling node. */
  'life.join': {
    request: z.object({ roomId: id, memberId: id }),
    response: z.object({ game: gameSnapshotSchema.nullable(), hands: handQueueStateSchema }),
  },
  /** A chat message of a member on the calling node, as a guess (before the chat relays it). */
  'life.chat': {
    request: z.object({ roomId: id, memberId: id, text: z.string().max(10_000) }),
    response: z.object({ outcome: z.enum(['none', 'correct', 'withhold']) }),
  },
};
