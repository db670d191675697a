import type { ChatMessage } from '@tutti/protocol';
import {
  prepareNotification,
  type MemberChannel,
  type PreparedNotification,
} from '../rooms/ports.ts';
import type { LiveDeliveries } from './catchUp.ts';

/**
 * Sends one stored message to the room's members on this node; answers whether the room had
 * any here. Public text is serialized once, lazily, and the same bytes go to everyone; private
 * messages and files are presented per recipient (file links carry each one's own token).
 */
export function fanOut(
  message: ChatMessage,
  members: Iterable<MemberChannel>,
  live: LiveDeliveries,
  present: (message: ChatMessage, peerId: string) => ChatMessage,
): boolean {
  const to = message.to;
  let any = false;
  let prepared: PreparedNotification<'chat.message'> | undefined;
  for (const peer of members) {
    any = true;
    // Private: the sender and the recipient only.
    if (to && peer.id !== to.peerId && peer.id !== message.from.peerId) continue;
    if (!live.deliver(peer.id, message.id)) continue; // A catch-up sent it.
    if (to || message.file) {
      void peer.notify('chat.message', { message: present(message, peer.id) });
    } else {
      prepared ??= prepareNotification('chat.message', { message });
      void peer.notifyPrepared(prepared);
    }
  }
  return any;
}
