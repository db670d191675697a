import { TuttiError, type Role } from '@tutti/protocol';
import { e2eeRefusal } from '../rooms/e2ee.ts';
import { isModerator } from '../moderation/roles.ts';
import type { Room } from '../rooms/Room.ts';
import { verifyOwnerSecret } from '../rooms/security.ts';

/**
 * Who may start and stop a recording: the room's owner or a moderator (server/src/moderation), or
 * whoever proves the owner secret.
 */
export function requireRecordingControl(
  room: Room,
  memberId: string,
  ownerSecret: string | undefined,
): void {
  requireControlBy(room, room.member(memberId)?.info.role, ownerSecret);
}

/** The same rule for a member of another node, with the role that node announced for it. */
export function requireControlBy(
  room: Room,
  role: Role | undefined,
  ownerSecret: string | undefined,
): void {
  if (role && isModerator(role)) return;
  if (ownerSecret !== undefined && verifyOwnerSecret(ownerSecret, room.record.ownerSecretHash)) {
    return;
  }
  throw new TuttiError(
    'FORBIDDEN',
    'only the room owner or a moderator can start or stop recording',
  );
}

/**
 * Why this room must not be recorded, or undefined: in an end-to-end encrypted room the
 * server only sees ciphertext, and recording would break the promise the room makes.
 */
export function recordingRefusal(room: Room): string | undefined {
  return e2eeRefusal(room.record, 'Recording');
}
