import { z } from 'zod';
import { TuttiError } from '../errors.ts';
import type { RequestMethod, ValidRequestData } from '../requests.ts';
import { requestSchemas } from './requests.ts';

/** The one zod failure → INVALID_REQUEST mapping: names the first bad field and why. */
export function invalidRequest(err: z.ZodError): TuttiError {
  const issue = err.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return new TuttiError('INVALID_REQUEST', `${where}${issue?.message ?? 'invalid data'}`);
}

const UNREADABLE = 'data of an unreadable shape';

/**
 * `schema.safeParse(value)` that never throws. zod 4.6 runs its length checks on any object
 * with a `length`, even after the type check failed, and `{ length: { toString: [] } }` (valid
 * JSON) makes them throw: every schema with a `.max()`/`.min()` would turn such input into an
 * exception. Use this for whatever comes from outside (requests, bodies, bus messages).
 */
export function safeParseInput<T>(schema: z.ZodType<T>, value: unknown): z.ZodSafeParseResult<T> {
  try {
    return schema.safeParse(value);
  } catch {
    const issue = { code: 'custom' as const, path: [], message: UNREADABLE, input: value };
    return { success: false, error: new z.ZodError([issue]) as z.ZodError<T> };
  }
}

/** Parses a value with a schema, throwing INVALID_REQUEST (a TuttiError) when it does not fit. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = safeParseInput(schema, value);
  if (!result.success) throw invalidRequest(result.error);
  return result.data;
}

/** Validates and normalises one request's data; throws INVALID_REQUEST. */
export function validateRequest<M extends RequestMethod>(
  method: M,
  data: unknown,
): ValidRequestData<M> {
  // requests.ts checks at compile time that each schema produces ValidRequestData<M>;
  // indexing the table with a generic M loses that, hence the one widening here.
  const schema: z.ZodType = requestSchemas[method];
  return parseOrThrow(schema, data) as ValidRequestData<M>;
}
