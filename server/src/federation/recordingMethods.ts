import { z } from 'zod';
import type { RecordingState } from '@tutti/protocol';
import { ownerSecretSchema } from '@tutti/protocol/schemas';

const id = z.string().min(1).max(128);

export const recordingStateSchema: z.ZodType<RecordingState> = z.object({
  active: z.boolean(),
  startedAt: z.number().int().min(0).nullable(),
  tracks: z.number().int().min(0),
  error: z.string().max(500).nullable(),
});

/**
 * Recording across nodes (federation/recordingRelay.ts): `recording.state` answers this
 * node's own recording of a room (a node catching up); `recording.stop` stops it for a member
 * of the calling node, authorized from that member's role as the caller announced it, or the
 * room's owner secret.
 */
export const recordingMethods = {
  'recording.state': {
    request: z.object({ roomId: id }),
    response: z.object({ state: recordingStateSchema }),
  },
  'recording.stop': {
    request: z.object({ roomId: id, actorId: id, ownerSecret: ownerSecretSchema.optional() }),
    response: z.object({ state: recordingStateSchema }),
  },
};
