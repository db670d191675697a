import type { HandlerTable } from '../rooms/ports.ts';
import type { ChatService } from './ChatService.ts';

/** protoo handlers for chat.*; data arrives validated against the protocol schemas. */
export function chatHandlers(chat: ChatService): HandlerTable {
  return {
    'chat.send': async ({ peer }, data) => ({ message: await chat.send(peer, data) }),
    'chat.history': ({ peer }, data) => chat.history(peer, data),
  };
}
