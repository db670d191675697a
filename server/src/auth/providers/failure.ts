import { TuttiError } from '@tutti/protocol';

/** Turns whatever a login step threw into LOGIN_FAILED with words a person can act on. */
export function loginFailure(provider: string, err: unknown): TuttiError {
  if (err instanceof TuttiError) return err;
  // openid-client wraps the precise reason ("iss" mismatch…) in `cause`.
  const message = messages(err).join(': ');
  const code =
    typeof err === 'object' && err !== null && 'error' in err ? String(err.error) : undefined;
  let reason: string;
  if (/"state"/.test(message)) reason = 'the answer does not belong to this login (state mismatch)';
  else if (/"iss"|issuer/i.test(message))
    reason = `the answer did not come from ${provider}'s configured issuer (wrong issuer)`;
  else if (code === 'invalid_grant')
    reason = 'the login code was already used or has expired (replayed code)';
  else if (code === 'access_denied') reason = 'the sign-in was cancelled at the provider';
  else if (/nonce/.test(message)) reason = 'the id token does not belong to this login (nonce)';
  else if (err instanceof Error && err.name === 'TimeoutError')
    reason = `${provider} did not answer in time`;
  else if (/fetch failed/.test(message))
    reason = `${provider} could not be reached (${message.replace(/^.*fetch failed:?\s*/, '') || 'network error'})`;
  else reason = code ? `${code}: ${message}` : message;
  return new TuttiError('LOGIN_FAILED', `${provider} login refused: ${reason}`);
}

function messages(err: unknown, depth = 0): string[] {
  if (!(err instanceof Error)) return [String(err)];
  const own = [err.message];
  return depth < 3 && err.cause instanceof Error
    ? [...own, ...messages(err.cause, depth + 1)]
    : own;
}
