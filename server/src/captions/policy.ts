import type { Room } from '../rooms/Room.ts';
import { isModerator } from '../moderation/roles.ts';
import { verifyOwnerSecret } from '../rooms/security.ts';

/**
 * Who may turn a room's captions on or off and save its transcript: its owner or a
 * moderator (server/src/moderation), or whoever proves the owner secret.
 */
export function mayManageCaptions(
  room: Room,
  memberId: string,
  ownerSecret: string | undefined,
): boolean {
  const role = room.member(memberId)?.info.role;
  if (role && isModerator(role)) return true;
  return ownerSecret !== undefined && verifyOwnerSecret(ownerSecret, room.record.ownerSecretHash);
}
