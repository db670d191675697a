import type { z } from 'zod';
import { TuttiError } from '../errors.ts';
import type { RequestMethod, ValidRequestData } from '../requests.ts';
import { requestSchemas } from './requests.ts';

/** The one zod failure → INVALID_REQUEST mapping: names the first bad field and why. */
export function invalidRequest(err: z.ZodError): TuttiError {
  const issue = err.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return new TuttiError('INVALID_REQUEST', `${where}${issue?.message ?? 'invalid data'}`);
}

/** Parses a value with a schema, throwing INVALID_REQUEST (a TuttiError) when it does not fit. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown): T {
  let result: z.ZodSafeParseResult<T>;
  try {
    result = schema.safeParse(value);
  } catch {
    // zod 4.6 runs a length check on any object with a `length`, even after the array
    // check failed: `{ length: { toString: [] } }` throws there. Bad input, not our fault.
    throw new TuttiError('INVALID_REQUEST', 'data of an unreadable shape');
  }
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
