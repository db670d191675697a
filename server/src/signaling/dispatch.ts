import { isRequestMethod, TuttiError } from '@tutti/protocol';
import { requestSchemas } from '@tutti/protocol/schemas';
import type { HandlerTable, RequestContext } from './handlers.ts';

export type DispatchResult =
  { ok: true; data: unknown } | { ok: false; status: number; reason: string };

type LooseHandler = (ctx: RequestContext, data: unknown) => unknown;

export interface DispatchLogger {
  error(obj: object, msg: string): void;
}

/**
 * Merges the concern tables (a method may be defined once only) and returns the one
 * function every protoo request goes through: method lookup → zod validation → handler →
 * TuttiError mapping. It never throws.
 */
export function createDispatcher(
  tables: readonly HandlerTable[],
  log: DispatchLogger,
): (ctx: RequestContext, method: string, data: unknown) => Promise<DispatchResult> {
  const merged = new Map<string, LooseHandler>();
  for (const table of tables) {
    for (const [method, handler] of Object.entries(table)) {
      if (!handler) continue;
      if (!isRequestMethod(method)) throw new Error(`handler for unknown method "${method}"`);
      if (merged.has(method)) throw new Error(`two handlers for method "${method}"`);
      merged.set(method, handler as LooseHandler);
    }
  }

  return async (ctx, method, data) => {
    try {
      const handler = isRequestMethod(method) ? merged.get(method) : undefined;
      if (!handler || !isRequestMethod(method)) {
        throw new TuttiError('UNKNOWN_METHOD', `unknown method "${truncate(method, 64)}"`);
      }
      const parsed = requestSchemas[method].safeParse(data);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
        throw new TuttiError('INVALID_REQUEST', `${where}${issue?.message ?? 'invalid data'}`);
      }
      const result = await handler(ctx, parsed.data);
      return { ok: true, data: result ?? {} };
    } catch (err) {
      if (err instanceof TuttiError) return { ok: false, status: err.status, reason: err.reason };
      log.error({ err, method: truncate(method, 64), peerId: ctx.peer.id }, 'request failed');
      return { ok: false, status: 500, reason: 'INTERNAL: internal error' };
    }
  };
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
