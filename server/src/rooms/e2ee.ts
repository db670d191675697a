import { TuttiError } from '@tutti/protocol';
import type { RtpParameters } from 'mediasoup/types';
import type { RoomRecord } from '../store/RoomStore.ts';

/**
 * End-to-end encrypted rooms (issue #13): the browsers encrypt every frame with a key the
 * server never has, so nothing on the server can use the media.
 */

/** The codecs an E2EE room carries: the clients leave their payload headers clear. */
export const E2EE_CODECS: readonly string[] = ['audio/opus', 'video/vp8'];

/**
 * Refuses a server-side use of the room's media (recording, WHEP, WHIP, captions) in an
 * E2EE room: FORBIDDEN with the reason. `what` names the feature in the message.
 */
export function assertNotE2ee(room: Pick<RoomRecord, 'e2ee'>, what: string): void {
  const refusal = e2eeRefusal(room, what);
  if (refusal) throw new TuttiError('FORBIDDEN', refusal);
}

/** Why `what` is refused in this room (end-to-end encrypted), or undefined. */
export function e2eeRefusal(room: Pick<RoomRecord, 'e2ee'>, what: string): string | undefined {
  return room.e2ee
    ? `${what} is not available in an end-to-end encrypted room: the server cannot see its media`
    : undefined;
}

/** In an E2EE room only VP8 and Opus may be produced (their header bytes stay clear). */
export function assertE2eeCodecs(room: Pick<RoomRecord, 'e2ee'>, rtp: RtpParameters): void {
  if (!room.e2ee) return;
  for (const codec of rtp.codecs) {
    const mime = codec.mimeType.toLowerCase();
    if (mime.endsWith('/rtx')) continue;
    if (!E2EE_CODECS.includes(mime)) {
      throw new TuttiError(
        'INVALID_REQUEST',
        `${codec.mimeType}: an end-to-end encrypted room takes VP8 and Opus only`,
      );
    }
  }
}
