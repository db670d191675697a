import type { Signaling } from '../signaling.ts';
import { storage } from '../storage.ts';

/**
 * Room ownership, shared by the lobby and the room view (it is in the entry bundle: keep it
 * small). Owner secrets from `room.create` live in localStorage (`tutti.owner.<roomId>`).
 */
export function isOwnerOf(roomId: string): boolean {
  return storage.ownerSecret(roomId) !== null;
}

/** Deletes a room we own (false when we do not own it); rejects with the server's error. */
export async function deleteRoom(signaling: Signaling, roomId: string): Promise<boolean> {
  const ownerSecret = storage.ownerSecret(roomId);
  if (!ownerSecret) return false;
  await signaling.request('room.delete', { roomId, ownerSecret });
  storage.setOwnerSecret(roomId, null);
  return true;
}
