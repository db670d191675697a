import type { Room } from '../rooms/Room.ts';
import { verifyOwnerSecret } from '../rooms/security.ts';

/**
 * Who may turn a room's captions on or off and save its transcript: its owner, proven by the
 * owner secret, until rooms have moderators (the moderation work replaces this one check).
 */
export function mayManageCaptions(
  room: Room,
  _memberId: string,
  ownerSecret: string | undefined,
): boolean {
  return ownerSecret !== undefined && verifyOwnerSecret(ownerSecret, room.record.ownerSecretHash);
}

/**
 * Captions need the server to hear the audio, which end-to-end encryption forbids: such rooms
 * are refused. No room is end-to-end encrypted yet; this is the one place to ask once they are.
 */
export function isEndToEndEncrypted(_room: Room): boolean {
  return false;
}
