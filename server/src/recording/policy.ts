import { TuttiError } from '@tutti/protocol';
import type { Room } from '../rooms/Room.ts';
import { verifyOwnerSecret } from '../rooms/security.ts';

/**
 * Who may start and stop a recording: today the room owner, proven by the owner secret.
 * When moderator roles land, this is the one place to swap for "is a moderator".
 */
export function requireRecordingControl(room: Room, ownerSecret: string): void {
  if (!verifyOwnerSecret(ownerSecret, room.record.ownerSecretHash)) {
    throw new TuttiError('FORBIDDEN', 'only the room owner can start or stop recording');
  }
}

/**
 * Why this room must not be recorded, or undefined. End-to-end encrypted rooms (issue #13,
 * another branch) must answer here: the server only sees ciphertext there, and recording
 * would break the promise the room makes.
 */
export function recordingRefusal(_room: Room): string | undefined {
  return undefined;
}
