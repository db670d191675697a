import type { z } from 'zod';
import { TuttiError } from '@tutti/protocol';

/** The one zod failure → INVALID_REQUEST mapping (protoo requests and HTTP bodies alike). */
export function invalidRequest(err: z.ZodError): TuttiError {
  const issue = err.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return new TuttiError('INVALID_REQUEST', `${where}${issue?.message ?? 'invalid data'}`);
}

/** Parses untrusted input; throws INVALID_REQUEST naming the first bad field. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw invalidRequest(r.error);
  return r.data;
}
