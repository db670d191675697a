import { isRequestMethod, TuttiError } from '@tutti/protocol';
import { validateRequest } from '@tutti/protocol/schemas';
import type { Logger } from '../kernel/log.ts';
import type { HandlerTable, RequestContext } from '../rooms/ports.ts';

export type DispatchResult =
  { ok: true; data: unknown } | { ok: false; status: number; reason: string };

type LooseHandler = (ctx: RequestContext, data: unknown) => unknown;

export type Dispatch = (
  ctx: RequestContext,
  method: string,
  data: unknown,
  /** The connection's own logger (child of the one given to createDispatcher). */
  log?: Logger,
) => Promise<DispatchResult>;

/**
 * Merges the concern tables (a method may be defined once only) and returns the one
 * function every protoo request goes through: method lookup → zod validation → handler →
 * TuttiError mapping. It never throws.
 */
export function createDispatcher(tables: readonly HandlerTable[], log: Logger): Dispatch {
  const merged = new Map<string, LooseHandler>();
  for (const table of tables) {
    for (const [method, handler] of Object.entries(table)) {
      if (!handler) continue;
      if (!isRequestMethod(method)) throw new Error(`handler for unknown method "${method}"`);
      if (merged.has(method)) throw new Error(`two handlers for method "${method}"`);
      merged.set(method, handler as LooseHandler);
    }
  }

  return async (ctx, method, data, connectionLog) => {
    try {
      const handler = isRequestMethod(method) ? merged.get(method) : undefined;
      if (!handler || !isRequestMethod(method)) {
        throw new TuttiError('UNKNOWN_METHOD', `unknown method "${truncate(method, 64)}"`);
      }
      const result = await handler(ctx, validateRequest(method, data));
      return { ok: true, data: result ?? {} };
    } catch (err) {
      if (err instanceof TuttiError) return { ok: false, status: err.status, reason: err.reason };
      const where = connectionLog ?? log.child({ peerId: ctx.peer.id });
      where.error({ err, method: truncate(method, 64) }, 'request failed');
      return { ok: false, status: 500, reason: 'INTERNAL: internal error' };
    }
  };
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
