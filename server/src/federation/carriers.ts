import type { Logger } from '../kernel/log.ts';
import type { MemberChannel } from '../rooms/ports.ts';
import type { CarriedState, Carrier } from './handover.ts';

type ChatMark = NonNullable<CarriedState['chat']>;

/** What the carriers need of the chat service (chat/ChatService.ts, chat/catchUp.ts). */
export interface CarriedChat {
  markOf(roomId: string, memberId: string): ChatMark;
  catchUp(peer: MemberChannel, mark: ChatMark): Promise<unknown>;
}

/**
 * Chat's part of a member going over to another node: what it had of the room's chat on
 * the old node; on the new one, what was sent while neither delivered to it, once.
 */
export function chatCarrier(chat: CarriedChat, log: Logger): Carrier {
  return {
    out: (room, memberId) => ({ chat: chat.markOf(room.id, memberId) }),
    in(room, memberId, state) {
      const channel = room.member(memberId)?.channel;
      if (!channel || !state.chat) return;
      chat.catchUp(channel, state.chat).catch((err: unknown) => {
        log.warn({ err, peerId: memberId }, 'chat: no catch-up after a resume');
      });
    },
  };
}

/** The admin module's part: the join token identity the member came with (webhooks). */
export function identityCarrier(identityOf: (memberId: string) => string | undefined): Carrier {
  return { out: (_room, memberId) => ({ identity: identityOf(memberId) }) };
}
