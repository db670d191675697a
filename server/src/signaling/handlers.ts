// The handler types live with the rooms port now; this re-export keeps the old import path
// working until chat, files and signaling import them from rooms/ports.ts.
export type { Handler, HandlerTable, RequestContext } from '../rooms/ports.ts';
