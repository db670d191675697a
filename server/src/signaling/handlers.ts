import type { RequestMethod, ResponseMap, ValidRequestData } from '@tutti/protocol';
import type { Peer } from '../rooms/Peer.ts';

/**
 * Each concern (rooms + media, chat, files) exports a partial HandlerTable; the signaling
 * plugin merges them, validates every request against the protocol schema first, and maps
 * thrown TuttiErrors to protoo rejects. A handler never sees unvalidated data.
 */
export interface RequestContext {
  peer: Peer;
}

export type Handler<M extends RequestMethod> = (
  ctx: RequestContext,
  data: ValidRequestData<M>,
) => Promise<ResponseMap[M]> | ResponseMap[M];

export type HandlerTable = { [M in RequestMethod]?: Handler<M> };
